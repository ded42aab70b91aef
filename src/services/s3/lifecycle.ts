/**
 * Applying lifecycle configurations: a timed task (run by the fabric on the business clock, which
 * tests advance) walks each configured bucket of the region and expires current versions (delete
 * markers in versioned buckets), removes noncurrent versions and expired object delete markers,
 * and aborts incomplete multipart uploads, as AWS does: due times are the rule's days after the
 * event, rounded up to the next midnight UTC. Transitions are stored, not applied (every storage
 * class is served online). Versions still pending replication wait, as on AWS.
 */
import type { BucketRecord, MultipartUpload, RegionMetadataStore, StoredObjectVersion } from '../../storage/types.js';
import { WriteConditionFailed } from '../../storage/errors.js';
import type { Caller } from '../caller.js';
import { deleteKey } from './handlers/deletes.js';
import type { LifecycleFilter, LifecycleRule } from './lifecycle-config.js';
import { blobsOf } from './object-data.js';
import type { S3Context } from './s3-context.js';

const DAY_MS = 86_400_000;
const PAGE = 1000;
/** A bucket is swept at most this often (business time): AWS evaluates lifecycle about daily. */
const SWEEP_INTERVAL_MS = 3600_000;

/** `start + days`, rounded up to the next midnight UTC. */
export function dueAt(start: number, days: number): number {
  return Math.ceil((start + days * DAY_MS) / DAY_MS) * DAY_MS;
}

function prefixOf(rule: LifecycleRule): string {
  return rule.prefix ?? rule.filter?.prefix ?? '';
}

/** Does a rule's filter select this version (prefix, every tag, size bounds)? */
export function ruleMatches(rule: LifecycleRule, v: { key: string; size: number; tags?: Record<string, string> }): boolean {
  if (rule.status !== 'Enabled' || !v.key.startsWith(prefixOf(rule))) return false;
  const f: LifecycleFilter | undefined = rule.filter;
  if (!f) return true;
  for (const [k, val] of Object.entries(f.tags ?? {})) if (v.tags?.[k] !== val) return false;
  if (f.sizeGreaterThan !== undefined && !(v.size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(v.size < f.sizeLessThan)) return false;
  return true;
}

/** When a current version expires under a rule, if the rule expires current versions. */
export function currentExpiry(rule: LifecycleRule, v: StoredObjectVersion): number | undefined {
  if (rule.expiration?.days !== undefined) return dueAt(v.lastModified, rule.expiration.days);
  if (rule.expiration?.date !== undefined) return Date.parse(rule.expiration.date);
  return undefined;
}

/** Every key's full history (newest first), page by page; a key split across pages is completed first. */
async function* keyHistories(meta: RegionMetadataStore, bucket: string): AsyncGenerator<StoredObjectVersion[]> {
  let after: string | undefined;
  for (;;) {
    const page = await meta.listVersions(bucket, after === undefined ? { limit: PAGE } : { keyMarker: after, limit: PAGE });
    if (page.length === 0) return;
    const groups: StoredObjectVersion[][] = [];
    for (const v of page) {
      const last = groups[groups.length - 1];
      if (last && last[0]!.key === v.key) last.push(v);
      else groups.push([v]);
    }
    const full = page.length === PAGE;
    if (full) {
      const last = groups[groups.length - 1]!;
      for (;;) {
        const more = await meta.listVersions(bucket, { keyMarker: last[0]!.key, versionIdMarker: last[last.length - 1]!.versionId, limit: PAGE });
        const same = more.filter((v) => v.key === last[0]!.key);
        last.push(...same);
        if (same.length < PAGE) break;
      }
    }
    for (const g of groups) yield g;
    after = groups[groups.length - 1]![0]!.key;
    if (!full) return;
  }
}

const settled = (v: StoredObjectVersion) => v.replicationStatus !== 'PENDING';

export interface LifecycleOutcome {
  expired: number;
  noncurrentRemoved: number;
  markersRemoved: number;
  uploadsAborted: number;
}

/** Apply a bucket's rules once at `now`. */
export async function applyLifecycle(ctx: S3Context, bucket: BucketRecord, rules: LifecycleRule[], now: number): Promise<LifecycleOutcome> {
  const out: LifecycleOutcome = { expired: 0, noncurrentRemoved: 0, markersRemoved: 0, uploadsAborted: 0 };
  // Lifecycle acts as the bucket owner, inside S3.
  const owner: Caller = { principal: { type: 'Service', service: 's3.amazonaws.com', accountId: bucket.ownerAccountId }, secureTransport: true, loopback: true };
  for await (const history of keyHistories(ctx.meta, bucket.name)) {
    let versions = history;
    const current = versions[0]!;
    // Noncurrent versions: N days after they stopped being current, beyond the newest K kept.
    const keep: StoredObjectVersion[] = [current];
    for (let i = 1; i < versions.length; i++) {
      const v = versions[i]!;
      const becameNoncurrent = versions[i - 1]!.lastModified;
      const newerNoncurrent = keep.length - 1;
      const expire = rules.some(
        (r) =>
          r.noncurrentExpiration &&
          ruleMatches(r, v) &&
          (r.noncurrentExpiration.newerNoncurrentVersions === undefined || newerNoncurrent >= r.noncurrentExpiration.newerNoncurrentVersions) &&
          now >= dueAt(becameNoncurrent, r.noncurrentExpiration.noncurrentDays),
      );
      if (expire && settled(v)) {
        const removed = await ctx.meta.deleteObjectVersion(bucket.name, v.key, v.versionId);
        if (removed) await ctx.blobs.delete(blobsOf(removed.parts)).catch(() => undefined);
        out.noncurrentRemoved++;
      } else {
        keep.push(v);
      }
    }
    versions = keep;
    if (!current.isDeleteMarker) {
      const due = rules.filter((r) => ruleMatches(r, current)).map((r) => currentExpiry(r, current)).filter((t): t is number => t !== undefined);
      if (due.length > 0 && now >= Math.min(...due) && settled(current)) {
        // Only the version this sweep judged due (by its ETag, checked at commit): a second sweep that
        // read the same history, or a PUT since, finds it gone or replaced and leaves the key alone.
        try {
          await deleteKey(ctx, owner, bucket, current.key, undefined, { replicate: false, condition: { kind: 'if-match', etag: current.etag } });
          out.expired++;
        } catch (e) {
          if (!(e instanceof WriteConditionFailed)) throw e;
        }
      }
    } else if (versions.length === 1 && rules.some((r) => r.expiration?.expiredObjectDeleteMarker && ruleMatches(r, { key: current.key, size: 0 }))) {
      // An expired object delete marker: the only thing left of its key.
      await ctx.meta.deleteObjectVersion(bucket.name, current.key, current.versionId);
      out.markersRemoved++;
    }
  }
  const abortRules = rules.filter((r) => r.abortIncompleteUploadDays !== undefined && r.status === 'Enabled');
  if (abortRules.length > 0) {
    let marker: { keyMarker: string; uploadIdMarker: string } | undefined;
    for (;;) {
      const uploads: MultipartUpload[] = await ctx.meta.listUploads(bucket.name, { limit: PAGE, ...(marker ?? {}) });
      for (const u of uploads) {
        if (!abortRules.some((r) => u.key.startsWith(prefixOf(r)) && now >= dueAt(u.initiated, r.abortIncompleteUploadDays!))) continue;
        const parts = await ctx.meta.abortUpload(u.uploadId);
        if (parts) await ctx.blobs.delete(parts.map((p) => p.blob)).catch(() => undefined);
        out.uploadsAborted++;
      }
      if (uploads.length < PAGE) break;
      const last = uploads[uploads.length - 1]!;
      marker = { keyMarker: last.key, uploadIdMarker: last.uploadId };
    }
  }
  return out;
}

/** The region's lifecycle task: every configured bucket, at most once per sweep interval of business time. */
export function lifecycleTask(ctx: S3Context): () => Promise<void> {
  const lastSweep = new Map<string, number>();
  return async () => {
    const now = ctx.clock.now();
    for (const bucket of await ctx.meta.listBuckets()) {
      const rules = await ctx.meta.getBucketConfig<LifecycleRule[]>(bucket.name, 'lifecycle');
      if (!rules) continue;
      const last = lastSweep.get(bucket.name);
      if (last !== undefined && now - last < SWEEP_INTERVAL_MS) continue;
      lastSweep.set(bucket.name, now);
      await applyLifecycle(ctx, bucket, rules, now);
    }
  };
}
