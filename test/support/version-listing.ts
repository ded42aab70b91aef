/** What the multi-host scenarios compare between a source bucket and its replica, and their bodies. */
import { createHash } from 'node:crypto';
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';

/** Deterministic bytes for the n-th write of a key; every 5th write is large (a blob file, not inline). */
export function bodyOf(key: string, n: number): Buffer {
  const size = n % 5 === 4 ? 200 * 1024 + n : 2000 + 37 * n;
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`${key}#${n}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface Listed {
  /** key → its object versions and its delete markers (each newest first, as listed) and which one is latest. */
  byKey: Map<string, { versions: string[]; deleteMarkers: string[]; latest: string | undefined }>;
  /** How many times each version id appears. */
  counts: Map<string, number>;
}

/** Every version and delete marker of a bucket (all pages). */
export async function listAllVersions(s3: S3Client, bucket: string): Promise<Listed> {
  const byKey: Listed['byKey'] = new Map();
  const counts = new Map<string, number>();
  const entry = (key: string) => {
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { versions: [], deleteMarkers: [], latest: undefined }));
    return e;
  };
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: 1000 }));
    for (const [list, kind] of [[page.Versions ?? [], 'versions'], [page.DeleteMarkers ?? [], 'deleteMarkers']] as const) {
      for (const v of list) {
        const e = entry(v.Key!);
        e[kind].push(v.VersionId!);
        if (v.IsLatest) e.latest = v.VersionId!;
        counts.set(v.VersionId!, (counts.get(v.VersionId!) ?? 0) + 1);
      }
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return { byKey, counts };
}
