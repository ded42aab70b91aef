import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConsoleAssets, isConsolePath } from './console-assets.js';

function site(): { root: string; secret: string; done(): void } {
  const base = mkdtempSync(join(tmpdir(), 'meridian-console-'));
  const root = join(base, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Meridian</title>' + ' '.repeat(600));
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log("hi");'.repeat(100));
  writeFileSync(join(root, 'assets', 'style-x.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'logo.svg'), '<svg/>');
  const secret = join(base, 'secret.txt');
  writeFileSync(secret, 'do not serve');
  symlinkSync(secret, join(root, 'assets', 'link.txt'));
  return { root, secret, done: () => rmSync(base, { recursive: true, force: true }) };
}

const get = (a: ConsoleAssets, path: string, headers: Record<string, string> = {}, method = 'GET') => a.serve(method, path, headers);

test('only /_console and paths under it belong to the console', () => {
  assert.ok(isConsolePath('/_console'));
  assert.ok(isConsolePath('/_console/'));
  assert.ok(isConsolePath('/_console/assets/x.js'));
  assert.ok(!isConsolePath('/_consoles'));
  assert.ok(!isConsolePath('/_meridian/metrics'));
  assert.ok(!isConsolePath('/bucket/_console/x'));
});

test('the index is served at /_console/ as HTML with a strict CSP and no-cache; /_console redirects there', () => {
  const s = site();
  try {
    const a = new ConsoleAssets(s.root);
    const r = get(a, '/_console/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(r.headers['content-security-policy']!, /default-src 'self'/);
    assert.match(r.headers['content-security-policy']!, /connect-src 'self'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.body), /<title>Meridian/);
    const redirect = get(a, '/_console');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, '/_console/');
  } finally {
    s.done();
  }
});

test('hashed assets are immutable and typed; gzip when accepted; HEAD has the length and no body; ETag gives 304', () => {
  const s = site();
  try {
    const a = new ConsoleAssets(s.root);
    const js = get(a, '/_console/assets/index-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-encoding'], undefined);
    const plainLength = (js.body as Buffer).length;
    assert.equal(js.headers['content-length'], String(plainLength));

    const gz = get(a, '/_console/assets/index-abc123.js', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'accept-encoding');
    assert.equal(gunzipSync(gz.body as Buffer).length, plainLength);

    const head = get(a, '/_console/assets/index-abc123.js', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String(plainLength));

    assert.equal(get(a, '/_console/assets/style-x.css').headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(get(a, '/_console/assets/logo.svg').headers['content-type'], 'image/svg+xml');

    const again = get(a, '/_console/assets/index-abc123.js', { 'if-none-match': js.headers.etag! });
    assert.equal(again.status, 304);
    assert.equal(again.body, undefined);
  } finally {
    s.done();
  }
});

test('no path leaves the build folder: traversal, encoded traversal, backslashes, NUL and symlinks are 404', () => {
  const s = site();
  try {
    const a = new ConsoleAssets(s.root);
    for (const p of [
      '/_console/../secret.txt',
      '/_console/%2e%2e/secret.txt',
      '/_console/assets/..%2f..%2fsecret.txt',
      '/_console/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/_console/..%5c..%5csecret.txt',
      '/_console/index.html%00.js',
      '/_console/assets/link.txt',
      '/_console/assets/',
      '/_console/nope.js',
    ]) {
      const r = get(a, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(String(r.body), /do not serve/, p);
    }
    assert.equal(get(a, '/_console/%E0%A4%A').status, 400);
  } finally {
    s.done();
  }
});

test('only GET and HEAD: other methods are 405 with Allow', () => {
  const s = site();
  try {
    const a = new ConsoleAssets(s.root);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = get(a, '/_console/', {}, m);
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  } finally {
    s.done();
  }
});

test('an unbuilt console says how to build it; a rebuild is picked up without a restart', () => {
  const base = mkdtempSync(join(tmpdir(), 'meridian-console-'));
  try {
    const root = join(base, 'dist');
    const a = new ConsoleAssets(root, 0);
    const r = get(a, '/_console/');
    assert.equal(r.status, 404);
    assert.match(String(r.body), /npm run build:console/);
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    assert.equal(get(a, '/_console/').status, 200);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
