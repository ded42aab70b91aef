/**
 * `meridian fsck [--repair]`: checks a data directory's metadata against its blob files.
 *
 * For every object version and every uploaded part of every region: the blob file exists, has the
 * size the metadata records (and that the part's plaintext size encrypts to), and every segment
 * authenticates under the object's data key (SSE-S3 and SSE-KMS; SSE-C objects can only be checked
 * for size: their key is never held here). Files that nothing references are orphans.
 *
 * --repair removes orphans (and leftover temporary files). Objects whose blobs are missing, of the
 * wrong size or damaged are reported, never dropped: deciding to lose an object is the operator's
 * call. Exit status: 0 when nothing is wrong (or only orphans, and they were removed), 2 when
 * problems remain. Run --repair with the server stopped: a running server's writes in flight
 * would look like orphans.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../common/clock.js';
import { decryptBuffer, encryptedSize, loadOrCreateRootKey } from '../crypto/index.js';
import { isKnownRegion } from '../regions/known-regions.js';
import { Authorizer } from '../services/iam/authorizer.js';
import { KmsService } from '../services/kms/kms-service.js';
import { readObjectData } from '../services/s3/object-data.js';
import { SseEngine, sseS3KeyFor } from '../services/s3/sse.js';
import { FsBlobStore, openGlobalStores, openKmsKeyStore, openRegionMetadataStore } from '../storage/index.js';
import type { BlobRef, IamStore, ObjectEncryption, RegionMetadataStore } from '../storage/types.js';

export interface FsckOptions {
  repair?: boolean;
}

type Problem = 'missing' | 'size' | 'damaged' | 'orphan';

interface Tally {
  versions: number;
  parts: number;
  uploadParts: number;
  unverifiable: number;
  problems: Record<Problem, number>;
  removed: number;
}

/** What one stored piece of bytes is, for messages. */
interface Piece {
  where: string;
  plainSize: number;
  blob: BlobRef;
  encryption: ObjectEncryption | undefined;
  bucket: string;
  key: string;
}

const BLOB_ID = /^[0-9a-f]{32}$/;

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream) {
    // reading is the check: every segment's tag is verified on the way
  }
}

class RegionCheck {
  readonly referenced = new Set<string>();

  constructor(
    readonly region: string,
    private readonly meta: RegionMetadataStore,
    private readonly blobs: FsBlobStore,
    private readonly sse: SseEngine | undefined,
    private readonly tally: Tally,
    private readonly report: (line: string) => void,
  ) {}

  private problem(kind: Problem, message: string): void {
    this.tally.problems[kind]++;
    this.report(`${this.region}  ${kind.padEnd(7)}  ${message}`);
  }

  private async dataKey(p: Piece): Promise<Buffer | undefined> {
    if (!p.encryption || !this.sse) return undefined;
    try {
      return await this.sse.dataKeyForMaintenance(p.bucket, p.key, p.encryption);
    } catch (e) {
      this.problem('damaged', `${p.where}: its data key cannot be unwrapped (${e instanceof Error ? e.message || e.name : String(e)})`);
      return undefined;
    }
  }

  /** Check one piece; false if it is not readable as recorded. */
  async check(p: Piece): Promise<void> {
    const b = p.blob;
    if (b.kind === 'file') {
      this.referenced.add(b.id);
      const path = this.blobs.pathOf(b.id);
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        this.problem('missing', `${p.where}: blob ${b.id} does not exist`);
        return;
      }
      if (size !== b.size || b.size !== encryptedSize(p.plainSize)) {
        this.problem('size', `${p.where}: blob ${b.id} is ${size} bytes; the metadata records ${b.size} for ${p.plainSize} bytes of data (${encryptedSize(p.plainSize)} expected)`);
        return;
      }
    }
    if (p.encryption?.customerKeyMd5) {
      this.tally.unverifiable++;
      return;
    }
    const dataKey = await this.dataKey(p);
    if (!dataKey) return;
    try {
      if (b.kind === 'inline') decryptBuffer(dataKey, b.data);
      else await drain(readObjectData(this.blobs, [{ partNumber: 0, size: p.plainSize, blob: b }], dataKey));
    } catch (e) {
      this.problem('damaged', `${p.where}: ${b.kind === 'file' ? `blob ${b.id}` : 'inline data'} fails authentication (${e instanceof Error ? e.message : String(e)})`);
    } finally {
      dataKey.fill(0);
    }
  }

  async run(): Promise<void> {
    for (const bucket of await this.meta.listBuckets()) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (;;) {
        const page = await this.meta.listVersions(bucket.name, { limit: 500, ...(keyMarker !== undefined ? { keyMarker } : {}), ...(versionIdMarker !== undefined ? { versionIdMarker } : {}) });
        for (const v of page) {
          this.tally.versions++;
          for (const part of v.parts) {
            this.tally.parts++;
            await this.check({
              where: `${bucket.name}/${v.key} version ${v.versionId}${v.parts.length > 1 || part.partNumber > 0 ? ` part ${part.partNumber}` : ''}`,
              plainSize: part.size,
              blob: part.blob,
              encryption: v.encryption,
              bucket: bucket.name,
              key: v.key,
            });
          }
        }
        if (page.length < 500) break;
        keyMarker = page[page.length - 1]!.key;
        versionIdMarker = page[page.length - 1]!.versionId;
      }
      let uploadKeyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const uploads = await this.meta.listUploads(bucket.name, { limit: 500, ...(uploadKeyMarker !== undefined ? { keyMarker: uploadKeyMarker } : {}), ...(uploadIdMarker !== undefined ? { uploadIdMarker } : {}) });
        for (const u of uploads) {
          for (const part of await this.meta.listParts(u.uploadId, { limit: 10_000 })) {
            this.tally.uploadParts++;
            await this.check({ where: `${bucket.name}/${u.key} upload ${u.uploadId} part ${part.partNumber}`, plainSize: part.size, blob: part.blob, encryption: u.encryption, bucket: bucket.name, key: u.key });
          }
        }
        if (uploads.length < 500) break;
        uploadKeyMarker = uploads[uploads.length - 1]!.key;
        uploadIdMarker = uploads[uploads.length - 1]!.uploadId;
      }
    }
  }

  /** Files no metadata references (and leftover temporary files); removed with --repair. */
  async orphans(repair: boolean): Promise<void> {
    const candidates: { path: string; id?: string }[] = [];
    for (const sub of readdirSync(this.blobs.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of readdirSync(join(this.blobs.dir, sub))) {
        if (BLOB_ID.test(name) && !this.referenced.has(name)) candidates.push({ path: join(this.blobs.dir, sub, name), id: name });
      }
    }
    if (existsSync(this.blobs.tmpDir)) for (const name of readdirSync(this.blobs.tmpDir)) candidates.push({ path: join(this.blobs.tmpDir, name) });
    for (const c of candidates) {
      // Asked once more of the store itself before anything is removed.
      if (c.id && (await this.meta.isBlobReferenced(c.id))) continue;
      const size = statSync(c.path, { throwIfNoEntry: false })?.size ?? 0;
      this.problem('orphan', `${c.id ? `blob ${c.id}` : `temporary file ${c.path}`} (${size} bytes) is referenced by no metadata${repair ? ': removed' : ''}`);
      if (repair) {
        await (c.id ? unlink(c.path) : rm(c.path, { recursive: true, force: true }));
        this.tally.removed++;
      }
    }
  }
}

function regionRootKey(dir: string, region: string): Buffer | undefined {
  const env = process.env[`MERIDIAN_KMS_ROOT_KEY_${region.toUpperCase().replace(/-/g, '_')}`];
  const file = join(dir, 'root.key');
  if (env === undefined && !existsSync(file)) return undefined;
  return loadOrCreateRootKey(env === undefined ? { file } : { file, env });
}

async function checkRegion(dataDir: string, region: string, iam: IamStore, opts: FsckOptions, tally: Tally, report: (line: string) => void): Promise<void> {
  const dir = join(dataDir, region);
  const meta = openRegionMetadataStore(join(dir, 'meta.db'), region);
  try {
    // A store opened normally clears blobs/tmp; fsck only looks (and --repair removes what it reports).
    const blobs = new FsBlobStore(join(dir, 'blobs'), { inspectOnly: true });
    const rootKey = regionRootKey(dir, region);
    let sse: SseEngine | undefined;
    if (rootKey) {
      const kms = new KmsService({ region, keys: openKmsKeyStore(meta), rootKey, authorizer: new Authorizer(iam, systemClock), clock: systemClock });
      sse = new SseEngine({ region, kms, sseS3Key: sseS3KeyFor(rootKey, region), kmsOverHttpAllowed: () => false });
    } else {
      report(`${region}  note     no root key (file or MERIDIAN_KMS_ROOT_KEY_*): authentication tags cannot be checked, sizes only`);
    }
    const before = tally.parts + tally.uploadParts;
    const check = new RegionCheck(region, meta, blobs, sse, tally, report);
    await check.run();
    await check.orphans(opts.repair === true);
    if (!rootKey) tally.unverifiable += tally.parts + tally.uploadParts - before;
  } finally {
    await meta.close();
  }
}

/** Run the check; returns the exit status (0 clean, 2 problems remain). */
export async function runFsck(dataDir: string, opts: FsckOptions, out: (line: string) => void): Promise<number> {
  const tally: Tally = { versions: 0, parts: 0, uploadParts: 0, unverifiable: 0, problems: { missing: 0, size: 0, damaged: 0, orphan: 0 }, removed: 0 };
  const regions = existsSync(dataDir) ? readdirSync(dataDir).filter((d) => isKnownRegion(d) && existsSync(join(dataDir, d, 'meta.db'))) : [];
  if (regions.length === 0) {
    out(`No region data under ${dataDir}.`);
    return 0;
  }
  const global = openGlobalStores(join(dataDir, 'global', 'global.db'));
  try {
    for (const region of regions.sort()) await checkRegion(dataDir, region, global.iam, opts, tally, out);
  } finally {
    await global.close();
  }
  const p = tally.problems;
  out(
    `Checked ${tally.versions} object versions (${tally.parts} parts) and ${tally.uploadParts} uploaded parts in ${regions.join(', ')}: ` +
      `${p.missing} missing, ${p.size} wrong size, ${p.damaged} damaged, ${p.orphan} orphaned${opts.repair ? ` (${tally.removed} removed)` : ''}; ` +
      `${tally.unverifiable} not verifiable (SSE-C: sizes only).`,
  );
  const remaining = p.missing + p.size + p.damaged + (p.orphan - tally.removed);
  if (remaining > 0 && !opts.repair && p.orphan > 0) out('Orphaned files are removed by `meridian fsck --repair` (with the server stopped).');
  if (p.missing + p.size + p.damaged > 0) out('Objects with missing, wrong-size or damaged blobs are reported, never removed: restore them from a backup or a replica, or delete them.');
  return remaining > 0 ? 2 : 0;
}
