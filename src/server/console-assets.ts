/**
 * The web console's static files under /_console/ (the Vite build in console/dist). The console is a
 * client of the same signed S3/KMS/IAM/STS and /_meridian/ endpoints as any SDK: this module only
 * hands out files, unauthenticated (they hold no data), GET and HEAD only.
 *
 * Only files found by scanning the build folder are served (a lookup table, never a path joined from
 * the request), so no request can reach a file outside it. Everything is held in memory with its
 * gzip form: the build is a few hundred KB.
 */
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceResponse } from '../services/protocol/response.js';

export const CONSOLE_PREFIX = '/_console';

/** Where `npm run build:console` writes the console (console/dist at the package root). */
export const CONSOLE_DIST_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page may talk to its own origin only: no CDN, no third party, no inline script. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

interface Asset {
  type: string;
  etag: string;
  body: Buffer;
  gzip?: Buffer;
  /** Vite's content-hashed files never change under the same name. */
  immutable: boolean;
}

export function isConsolePath(rawPath: string): boolean {
  return rawPath === CONSOLE_PREFIX || rawPath.startsWith(`${CONSOLE_PREFIX}/`);
}

function text(status: number, message: string, extra: Record<string, string> = {}): ServiceResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra }, body: message + '\n' };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

export class ConsoleAssets {
  private assets: Map<string, Asset> | undefined;
  private scannedAt = 0;

  constructor(
    private readonly root: string = CONSOLE_DIST_DIR,
    /** How long a miss trusts the last scan (a rebuild while the server runs is picked up after it). */
    private readonly rescanAfterMs = 2000,
  ) {}

  serve(method: string, rawPath: string, headers: Record<string, string | string[] | undefined>): ServiceResponse {
    if (method !== 'GET' && method !== 'HEAD') return text(405, `The console is read-only: ${method} is not allowed.`, { allow: 'GET, HEAD' });
    // '/_console' → '/_console/', so relative asset URLs resolve under the prefix.
    if (rawPath === CONSOLE_PREFIX) return { status: 308, headers: { location: `${CONSOLE_PREFIX}/`, 'cache-control': 'no-store' }, body: '' };
    let name: string;
    try {
      name = decodeURIComponent(rawPath.slice(CONSOLE_PREFIX.length + 1));
    } catch {
      return text(400, 'Malformed percent-encoding in the console path.');
    }
    if (name === '') name = 'index.html';
    if (name.includes('\0') || name.includes('\\') || name.split('/').some((s) => s === '..' || s === '.')) return text(404, 'Not found.');
    let asset = this.lookup(name, false);
    if (!asset) asset = this.lookup(name, true);
    if (!asset) {
      if (!this.assets?.has('index.html')) return text(404, 'The console is not built. Run `npm run build:console` (npm install does it), then reload.');
      return text(404, `No console file ${name}.`);
    }
    const out: Record<string, string> = {
      'content-type': asset.type,
      etag: asset.etag,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      vary: 'accept-encoding',
    };
    if (asset.type.startsWith('text/html')) {
      out['content-security-policy'] = CSP;
      out['x-frame-options'] = 'DENY';
    }
    const ifNoneMatch = header(headers, 'if-none-match');
    if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === asset.etag || t.trim() === '*')) return { status: 304, headers: out };
    let body = asset.body;
    if (asset.gzip && /\bgzip\b/.test(header(headers, 'accept-encoding'))) {
      body = asset.gzip;
      out['content-encoding'] = 'gzip';
    }
    out['content-length'] = String(body.length);
    return { status: 200, headers: out, body: method === 'HEAD' ? '' : body };
  }

  private lookup(name: string, rescan: boolean): Asset | undefined {
    const now = Date.now();
    if (!this.assets || (rescan && now - this.scannedAt >= this.rescanAfterMs)) {
      this.assets = scan(this.root);
      this.scannedAt = now;
    }
    return this.assets.get(name);
  }
}

/** Regular files under root (symlinks are not followed), keyed by their '/'-separated relative path. */
function scan(root: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (!existsSync(root)) return out;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const rel = relative(root, p).split(sep).join('/');
        const type = CONTENT_TYPES[extname(p).toLowerCase()] ?? 'application/octet-stream';
        const body = readFileSync(p);
        const asset: Asset = { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, immutable: rel.startsWith('assets/') };
        if (/^(text\/|application\/json|image\/svg)/.test(type) && body.length > 512) {
          const gz = gzipSync(body, { level: 9 });
          if (gz.length < body.length) asset.gzip = gz;
        }
        out.set(rel, asset);
      }
    }
  };
  walk(root);
  return out;
}
