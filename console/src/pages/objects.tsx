/**
 * The object browser: prefix navigation, server-side pages (so a bucket of 100,000+ objects costs
 * one page at a time), all versions and delete markers, upload (drag and drop, multipart with
 * progress, SSE choice), and per version: download, delete, metadata, tags, SSE mode and key ARN,
 * replication status with the replica (COMPLETED) or "why?" (FAILED, PENDING).
 */
import {
  DeleteObjectCommand,
  GetBucketReplicationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectTaggingCommand,
  type HeadObjectCommandOutput,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { adminJson } from '../admin';
import { s3 } from '../aws';
import { bucketRegion, keyChoices } from '../lib/catalog';
import { bytes, parentPrefix, relativeKey, when } from '../lib/format';
import { bucketName } from '../lib/replication-model';
import { href, navigate } from '../router';
import { BucketHeader, orEmpty } from './bucket-tabs';
import { TagRows, type Tag } from './tag-rows';
import { Button, Check, ErrorBox, Loading, Outcome, Select, Table, TextInput, useAction, useAsync } from '../ui';

const PAGE_SIZES = ['50', '100', '200', '1000'];

export function ObjectsPage({ bucket, query }: { bucket: string; query: URLSearchParams }) {
  const region = useAsync(() => bucketRegion(bucket), [bucket]);
  const prefix = query.get('prefix') ?? '';
  const selected = query.get('key') ?? undefined;
  const versions = query.get('versions') === '1';
  const go = (p: Record<string, string | undefined>) =>
    navigate(['bucket', bucket, 'objects'], { prefix, versions: versions ? '1' : undefined, key: selected, ...p });
  return (
    <>
      <BucketHeader bucket={bucket} current="objects" />
      <h1>Objects in {bucket}</h1>
      <Loading state={region}>
        {() => (
          <div class={selected ? 'split' : ''}>
            <div>
              <UploadPanel bucket={bucket} region={region.data!} prefix={prefix} />
              <Listing bucket={bucket} region={region.data!} prefix={prefix} versions={versions} go={go} selected={selected} />
            </div>
            {selected && <ObjectDetail key={selected} bucket={bucket} region={region.data!} objectKey={selected} onClose={() => go({ key: undefined })} />}
          </div>
        )}
      </Loading>
    </>
  );
}

function Breadcrumbs({ prefix, go }: { prefix: string; go: (p: Record<string, string | undefined>) => void }) {
  const parts = prefix.split('/').filter(Boolean);
  return (
    <nav class="crumbs" aria-label="Prefix">
      <button type="button" class="link" onClick={() => go({ prefix: undefined, key: undefined })}>
        (root)
      </button>
      {parts.map((p, i) => (
        <span key={i}>
          {' / '}
          <button type="button" class="link" onClick={() => go({ prefix: parts.slice(0, i + 1).join('/') + '/', key: undefined })}>
            {p}
          </button>
        </span>
      ))}
    </nav>
  );
}

interface Row {
  kind: 'prefix' | 'object' | 'version' | 'marker';
  key: string;
  versionId?: string;
  latest?: boolean;
  size?: number;
  modified?: Date;
  storageClass?: string;
}

interface Page {
  rows: Row[];
  next?: { token?: string; keyMarker?: string; versionIdMarker?: string };
}

async function loadPage(bucket: string, region: string, prefix: string, versions: boolean, pageSize: number, from: Page['next'], startAfter: string): Promise<Page> {
  const client = s3(region);
  if (!versions) {
    const out = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, Delimiter: '/', MaxKeys: pageSize, ContinuationToken: from?.token, StartAfter: !from && startAfter ? startAfter : undefined }),
    );
    const rows: Row[] = [
      ...(out.CommonPrefixes ?? []).map((p): Row => ({ kind: 'prefix', key: p.Prefix! })),
      ...(out.Contents ?? []).map((o): Row => ({ kind: 'object', key: o.Key!, size: o.Size ?? 0, modified: o.LastModified!, storageClass: o.StorageClass ?? 'STANDARD' })),
    ];
    return out.IsTruncated ? { rows, next: { token: out.NextContinuationToken! } } : { rows };
  }
  const out = await client.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix || undefined, Delimiter: '/', MaxKeys: pageSize, KeyMarker: from?.keyMarker ?? (startAfter || undefined), VersionIdMarker: from?.versionIdMarker }),
  );
  const items: Row[] = [
    ...(out.Versions ?? []).map((v): Row => ({ kind: 'version', key: v.Key!, versionId: v.VersionId!, latest: !!v.IsLatest, size: v.Size ?? 0, modified: v.LastModified!, storageClass: v.StorageClass ?? 'STANDARD' })),
    ...(out.DeleteMarkers ?? []).map((m): Row => ({ kind: 'marker', key: m.Key!, versionId: m.VersionId!, latest: !!m.IsLatest, modified: m.LastModified! })),
  ];
  // S3 lists a key's versions newest first; the SDK splits versions and markers apart.
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : (b.modified?.getTime() ?? 0) - (a.modified?.getTime() ?? 0)));
  const rows = [...(out.CommonPrefixes ?? []).map((p): Row => ({ kind: 'prefix', key: p.Prefix! })), ...items];
  return out.IsTruncated ? { rows, next: { keyMarker: out.NextKeyMarker!, versionIdMarker: out.NextVersionIdMarker! } } : { rows };
}

function Listing(props: { bucket: string; region: string; prefix: string; versions: boolean; selected: string | undefined; go: (p: Record<string, string | undefined>) => void }) {
  const { bucket, region, prefix, versions, go } = props;
  const [pageSize, setPageSize] = useState('100');
  const [startAfter, setStartAfter] = useState('');
  const [jump, setJump] = useState('');
  // The markers of the pages before this one: S3 pages only go forward, so going back replays a marker.
  const [stack, setStack] = useState<Page['next'][]>([]);
  const [from, setFrom] = useState<Page['next']>(undefined);
  useEffect(() => {
    setStack([]);
    setFrom(undefined);
  }, [bucket, prefix, versions, pageSize, startAfter]);
  const tick = useUploadsTick();
  const page = useAsync(() => loadPage(bucket, region, prefix, versions, Number(pageSize), from, startAfter), [bucket, region, prefix, versions, pageSize, from, startAfter, tick]);
  return (
    <section aria-labelledby="listing">
      <h2 id="listing">Browse</h2>
      <Breadcrumbs prefix={prefix} go={go} />
      <div class="row wrap">
        <Check label="Show versions and delete markers" checked={versions} onChange={(v) => go({ versions: v ? '1' : undefined })} />
        <Select label="Per page" value={pageSize} onChange={setPageSize} options={PAGE_SIZES} />
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            setStartAfter(jump ? prefix + jump : '');
          }}
        >
          <TextInput label="Start after key" value={jump} onInput={setJump} placeholder="name under this prefix" />
          <button type="submit">Go</button>
        </form>
        <Button onClick={page.reload}>Refresh</Button>
      </div>
      <Loading state={page}>
        {() => (
          <>
            {page.data!.rows.length === 0 ? (
              <p class="muted">Nothing under this prefix{stack.length ? ' on this page' : ''}.</p>
            ) : (
              <Table label="Objects">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    {versions && <th scope="col">Version</th>}
                    <th scope="col">Size</th>
                    <th scope="col">Last modified</th>
                    <th scope="col">Storage class</th>
                  </tr>
                </thead>
                <tbody>
                  {prefix && (
                    <tr>
                      <td colSpan={versions ? 5 : 4}>
                        <button type="button" class="link" onClick={() => go({ prefix: parentPrefix(prefix) || undefined, key: undefined })}>
                          ↑ Up
                        </button>
                      </td>
                    </tr>
                  )}
                  {page.data!.rows.map((r) => (
                    <tr key={`${r.kind}:${r.key}:${r.versionId ?? ''}`} class={r.key === props.selected ? 'selected' : ''}>
                      <td>
                        {r.kind === 'prefix' ? (
                          <button type="button" class="link folder" onClick={() => go({ prefix: r.key, key: undefined })}>
                            {relativeKey(r.key, prefix)}
                          </button>
                        ) : (
                          <button type="button" class="link" onClick={() => go({ key: r.key })}>
                            {relativeKey(r.key, prefix)}
                          </button>
                        )}
                      </td>
                      {versions && (
                        <td class="mono small">
                          {r.versionId ?? ''}
                          {r.latest && <span class="badge">latest</span>}
                          {r.kind === 'marker' && <span class="badge warn">delete marker</span>}
                        </td>
                      )}
                      <td>{r.kind === 'prefix' ? 'folder' : r.kind === 'marker' ? '–' : bytes(r.size)}</td>
                      <td>{when(r.modified)}</td>
                      <td>{r.storageClass ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
            <div class="row">
              <Button
                disabled={stack.length === 0}
                onClick={() => {
                  setFrom(stack[stack.length - 1]);
                  setStack(stack.slice(0, -1));
                }}
              >
                Previous page
              </Button>
              <span class="muted">Page {stack.length + 1}</span>
              <Button
                disabled={!page.data!.next}
                onClick={() => {
                  setStack([...stack, from]);
                  setFrom(page.data!.next);
                }}
              >
                Next page
              </Button>
            </div>
          </>
        )}
      </Loading>
    </section>
  );
}

/** Bumped when an upload finishes, so the listing and details refresh. */
const uploadsTick = { value: 0, listeners: new Set<() => void>() };
function bumpUploads(): void {
  uploadsTick.value++;
  for (const l of uploadsTick.listeners) l();
}
function useUploadsTick(): number {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    uploadsTick.listeners.add(l);
    return () => void uploadsTick.listeners.delete(l);
  }, []);
  return uploadsTick.value;
}

interface UploadState {
  id: number;
  name: string;
  key: string;
  loaded: number;
  total: number;
  error?: unknown;
  done?: boolean;
  versionId?: string;
}

let uploadIds = 0;

function UploadPanel({ bucket, region, prefix }: { bucket: string; region: string; prefix: string }) {
  useUploadsTick();
  const [sse, setSse] = useState<'' | 'AES256' | 'aws:kms'>('');
  const [keyArn, setKeyArn] = useState('');
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const keys = useAsync(() => (sse === 'aws:kms' ? keyChoices(region) : Promise.resolve([])), [region, sse]);
  const start = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const id = ++uploadIds;
      const key = prefix + file.name;
      setUploads((u) => [{ id, name: file.name, key, loaded: 0, total: file.size }, ...u].slice(0, 20));
      const update = (patch: Partial<UploadState>) => setUploads((u) => u.map((x) => (x.id === id ? { ...x, ...patch } : x)));
      const params: ConstructorParameters<typeof Upload>[0]['params'] = { Bucket: bucket, Key: key, Body: file, ContentType: file.type || 'application/octet-stream' };
      if (sse) params.ServerSideEncryption = sse as ServerSideEncryption;
      if (sse === 'aws:kms' && keyArn.trim()) params.SSEKMSKeyId = keyArn.trim();
      // Multipart above 5 MiB, two parts in flight: progress per part as it is sent.
      const upload = new Upload({ client: s3(region), params, partSize: 5 * 1024 * 1024, queueSize: 2, leavePartsOnError: false });
      upload.on('httpUploadProgress', (p) => update({ loaded: p.loaded ?? 0, total: p.total ?? file.size }));
      upload.done().then(
        (out) => {
          const versionId = (out as { VersionId?: string }).VersionId;
          update({ done: true, loaded: file.size, ...(versionId ? { versionId } : {}) });
          bumpUploads();
        },
        (error: unknown) => update({ error }),
      );
    }
  };
  return (
    <section class="card" aria-labelledby="upload">
      <h2 id="upload">Upload to {prefix || '(root)'}</h2>
      <div class="row wrap">
        <Select
          label="Server-side encryption"
          value={sse}
          onChange={(v) => setSse(v as typeof sse)}
          options={[
            ['', 'Bucket default'],
            ['AES256', 'SSE-S3 (AES256)'],
            ['aws:kms', 'SSE-KMS (aws:kms)'],
          ]}
        />
        {sse === 'aws:kms' && (
          <>
            <TextInput label="KMS key for upload" value={keyArn} onInput={setKeyArn} list="upload-keys" placeholder="aws/s3 managed key when empty" />
            <datalist id="upload-keys">
              {(keys.data ?? []).map((k) => (
                <option key={k.arn} value={k.arn}>
                  {k.label}
                </option>
              ))}
            </datalist>
          </>
        )}
      </div>
      <div
        class={`drop${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (e.dataTransfer?.files.length) start(e.dataTransfer.files);
        }}
        data-testid="drop-zone"
      >
        <p>Drop files here, or</p>
        <label class="button" for="upload-files">
          Choose files to upload
        </label>
        <input
          id="upload-files"
          ref={input}
          class="visually-hidden"
          type="file"
          multiple
          onChange={(e) => {
            const files = (e.currentTarget as HTMLInputElement).files;
            if (files?.length) start(files);
            (e.currentTarget as HTMLInputElement).value = '';
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id}>
              <span class="mono">{u.key}</span>{' '}
              <progress max={u.total || 1} value={u.loaded} aria-label={`Upload of ${u.key}`} />{' '}
              <span class="small">
                {u.error ? 'failed' : u.done ? `uploaded${u.versionId ? ` (version ${u.versionId})` : ''}` : `${bytes(u.loaded)} of ${bytes(u.total)}`}
              </span>
              {u.error !== undefined && <ErrorBox error={u.error} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

interface VersionInfo {
  versionId: string;
  isDeleteMarker: boolean;
  latest: boolean;
  modified?: Date;
  size?: number;
}

async function versionsOf(bucket: string, region: string, key: string): Promise<VersionInfo[]> {
  const out = await s3(region).send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 100 }));
  const list: VersionInfo[] = [
    ...(out.Versions ?? []).filter((v) => v.Key === key).map((v): VersionInfo => ({ versionId: v.VersionId!, isDeleteMarker: false, latest: !!v.IsLatest, modified: v.LastModified!, size: v.Size ?? 0 })),
    ...(out.DeleteMarkers ?? []).filter((m) => m.Key === key).map((m): VersionInfo => ({ versionId: m.VersionId!, isDeleteMarker: true, latest: !!m.IsLatest, modified: m.LastModified! })),
  ];
  return list.sort((a, b) => (b.modified?.getTime() ?? 0) - (a.modified?.getTime() ?? 0));
}

function ObjectDetail({ bucket, region, objectKey, onClose }: { bucket: string; region: string; objectKey: string; onClose: () => void }) {
  const tick = useUploadsTick();
  const versions = useAsync(() => versionsOf(bucket, region, objectKey), [bucket, objectKey, tick]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [objectKey]);
  return (
    <aside class="card detail" aria-labelledby="detail-heading">
      <div class="row spread">
        <h2 id="detail-heading" ref={heading} tabIndex={-1}>
          {objectKey}
        </h2>
        <Button class="link" onClick={onClose}>
          Close
        </Button>
      </div>
      <Loading state={versions}>
        {() =>
          versions.data!.length === 0 ? (
            <p class="muted">No such object (or no version of it).</p>
          ) : (
            <ol class="versions" aria-label={`Versions of ${objectKey}`}>
              {versions.data!.slice(0, 20).map((v) => (
                <li key={v.versionId}>
                  <VersionCard bucket={bucket} region={region} objectKey={objectKey} v={v} onChanged={versions.reload} />
                </li>
              ))}
            </ol>
          )
        }
      </Loading>
    </aside>
  );
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'REPLICA']);

function VersionCard({ bucket, region, objectKey, v, onChanged }: { bucket: string; region: string; objectKey: string; v: VersionInfo; onChanged: () => void }) {
  const [poll, setPoll] = useState(0);
  const head = useAsync(
    () => (v.isDeleteMarker ? Promise.resolve(undefined as HeadObjectCommandOutput | undefined) : s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: v.versionId }))),
    [v.versionId, poll],
  );
  const status = head.data?.ReplicationStatus;
  // Watch a PENDING version until replication settles.
  useEffect(() => {
    if (!status || TERMINAL.has(status)) return;
    const t = setTimeout(() => setPoll((n) => n + 1), 1000);
    return () => clearTimeout(t);
  }, [status, poll]);
  const [confirm, setConfirm] = useState(false);
  const action = useAction();
  const [why, setWhy] = useState(false);
  const [tags, setTags] = useState(false);
  const label = `version ${v.versionId}`;
  return (
    <article class="version" aria-label={label}>
      <p class="row wrap">
        <span class="mono small">{v.versionId}</span>
        {v.latest && <span class="badge">latest</span>}
        {v.isDeleteMarker && <span class="badge warn">delete marker</span>}
        {status && <span class={`badge status-${status.toLowerCase()}`}>{status}</span>}
      </p>
      {head.error !== undefined && <ErrorBox error={head.error} />}
      {head.data && (
        <dl class="props">
          <dt>Last modified</dt>
          <dd>{when(head.data.LastModified)}</dd>
          <dt>Size</dt>
          <dd>{bytes(head.data.ContentLength)}</dd>
          <dt>Content type</dt>
          <dd>{head.data.ContentType ?? '–'}</dd>
          <dt>ETag</dt>
          <dd class="mono small">{head.data.ETag}</dd>
          <dt>Encryption</dt>
          <dd>{head.data.ServerSideEncryption ?? (head.data.SSECustomerAlgorithm ? 'SSE-C' : '–')}{head.data.BucketKeyEnabled ? ' (Bucket Key)' : ''}</dd>
          {head.data.SSEKMSKeyId && (
            <>
              <dt>KMS key ARN</dt>
              <dd class="mono small" data-testid="kms-key-arn">
                {head.data.SSEKMSKeyId}
              </dd>
            </>
          )}
          <dt>Replication status</dt>
          <dd data-testid="replication-status">{status ?? 'none'}</dd>
          {Object.entries(head.data.Metadata ?? {}).map(([k, val]) => (
            <Fragment key={k}>
              <dt>x-amz-meta-{k}</dt>
              <dd>{val}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      <div class="row wrap">
        {!v.isDeleteMarker && <Button onClick={() => void download(bucket, region, objectKey, v.versionId)}>Download</Button>}
        {!v.isDeleteMarker && <Button onClick={() => setTags(!tags)} aria-expanded={tags}>Tags</Button>}
        {status && status !== 'REPLICA' && (
          <Button onClick={() => setWhy(!why)} aria-expanded={why}>
            {status === 'COMPLETED' ? 'Replication path' : 'Why?'}
          </Button>
        )}
        {confirm ? (
          <>
            <Button
              class="danger"
              busy={action.busy}
              onClick={() =>
                void action.run(async () => {
                  await s3(region).send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: v.versionId }));
                  onChanged();
                  return 'Version deleted.';
                })
              }
            >
              Delete this version permanently
            </Button>
            <Button onClick={() => setConfirm(false)}>Cancel</Button>
          </>
        ) : (
          <Button onClick={() => setConfirm(true)}>Delete…</Button>
        )}
        {v.latest && !v.isDeleteMarker && (
          <Button
            busy={action.busy}
            onClick={() =>
              void action.run(async () => {
                await s3(region).send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey }));
                onChanged();
                bumpUploads();
                return 'Delete marker added.';
              })
            }
          >
            Add delete marker
          </Button>
        )}
      </div>
      <Outcome action={action} />
      {status === 'COMPLETED' && <Replicas bucket={bucket} region={region} objectKey={objectKey} versionId={v.versionId} />}
      {why && <WhyPanel bucket={bucket} objectKey={objectKey} versionId={v.versionId} />}
      {tags && <ObjectTags bucket={bucket} region={region} objectKey={objectKey} versionId={v.versionId} />}
    </article>
  );
}

async function download(bucket: string, region: string, key: string, versionId: string): Promise<void> {
  // A short-lived presigned URL: the browser streams the file itself.
  const url = await getSignedUrl(s3(region), new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ResponseContentDisposition: `attachment; filename="${key.split('/').pop()!.replace(/"/g, '')}"` }), { expiresIn: 300 });
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** The replicas of a COMPLETED version: HEAD in each destination of the bucket's rules. */
function Replicas({ bucket, region, objectKey, versionId }: { bucket: string; region: string; objectKey: string; versionId: string }) {
  const replicas = useAsync(async () => {
    const config = await orEmpty(s3(region).send(new GetBucketReplicationCommand({ Bucket: bucket })));
    const dests = [...new Set((config?.ReplicationConfiguration?.Rules ?? []).map((r) => bucketName(r.Destination?.Bucket)))];
    return Promise.all(
      dests.map(async (dest) => {
        try {
          const destRegion = await bucketRegion(dest);
          const h = await s3(destRegion).send(new HeadObjectCommand({ Bucket: dest, Key: objectKey, VersionId: versionId }));
          return { dest, region: destRegion, head: h };
        } catch (error) {
          return { dest, region: '?', error };
        }
      }),
    );
  }, [bucket, objectKey, versionId]);
  if (!replicas.data) return replicas.error ? <ErrorBox error={replicas.error} /> : null;
  return (
    <div class="replicas">
      <h3>Replicas</h3>
      {replicas.data.map((r) => (
        <div key={r.dest} class="replica" data-testid="replica">
          <p>
            <strong>{r.dest}</strong> <span class="badge">{r.region}</span> {'head' in r && r.head && <span class="badge status-replica">{r.head.ReplicationStatus}</span>}
          </p>
          {'head' in r && r.head && (
            <dl class="props">
              <dt>Encryption</dt>
              <dd>{r.head.ServerSideEncryption}</dd>
              {r.head.SSEKMSKeyId && (
                <>
                  <dt>Replica KMS key ARN</dt>
                  <dd class="mono small" data-testid="replica-kms-key-arn">
                    {r.head.SSEKMSKeyId}
                  </dd>
                </>
              )}
            </dl>
          )}
          {'error' in r && r.error !== undefined && <ErrorBox error={r.error} title={`Replica in ${r.dest}`} />}
        </div>
      ))}
    </div>
  );
}

interface ExplainResult {
  explanation: {
    version?: { replicationStatus?: string; detail?: Record<string, { status: string; failureReason?: string; ruleId?: string }> };
    destinations: { destinationBucket: string; ruleId: string; outcome: string; message?: string; checks: { stage: string; action: string; resource: string; outcome: string; decidedBy: string[]; advice?: string }[] }[];
    summary: string[];
  };
  text: string;
}

/** The one-click "why?": Meridian's dry run of this version through replication. */
export function WhyPanel({ bucket, objectKey, versionId }: { bucket: string; objectKey: string; versionId?: string }) {
  const result = useAsync(() => adminJson<ExplainResult>('/_meridian/replication/explain', { bucket, key: objectKey, versionId }), [bucket, objectKey, versionId]);
  return (
    <section class="why" aria-label="Replication explanation">
      <Loading state={result}>
        {() => {
          const e = result.data!.explanation;
          const failed = Object.entries(e.version?.detail ?? {}).filter(([, d]) => d.failureReason);
          const denied = e.destinations.flatMap((d) => d.checks.filter((c) => c.outcome !== 'Allow').map((c) => ({ d, c })));
          return (
            <>
              {failed.map(([dest, d]) => (
                <p key={dest} class="reason">
                  Failed to <strong>{dest}</strong>: <code data-testid="failure-reason">{d.failureReason}</code>
                  {d.ruleId && <span class="muted"> (rule {d.ruleId})</span>}
                </p>
              ))}
              {e.summary.length > 0 && (
                <ul class="summary">
                  {e.summary.map((s, i) => (
                    <li key={i}>{s}</li>
                  ))}
                </ul>
              )}
              {denied.map(({ d, c }, i) => (
                <div key={i} class="denied">
                  <p>
                    <strong>{c.action}</strong> on <code>{c.resource}</code> — {c.stage}: {c.outcome}
                    {c.decidedBy.length > 0 && <span> (decided by {c.decidedBy.join('; ')})</span>}
                  </p>
                  {c.advice && <p class="advice">Fix: {c.advice}</p>}
                  <p class="muted small">
                    → {d.destinationBucket}, rule {d.ruleId}
                  </p>
                </div>
              ))}
              <details>
                <summary>Full explanation</summary>
                <pre class="explain">{result.data!.text}</pre>
              </details>
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function ObjectTags({ bucket, region, objectKey, versionId }: { bucket: string; region: string; objectKey: string; versionId: string }) {
  const state = useAsync(() => s3(region).send(new GetObjectTaggingCommand({ Bucket: bucket, Key: objectKey, VersionId: versionId })), [versionId]);
  const [tags, setTags] = useState<Tag[]>([]);
  useEffect(() => setTags((state.data?.TagSet ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }))), [state.data]);
  const action = useAction();
  return (
    <Loading state={state}>
      {() => (
        <>
          <TagRows label="Tags of this version" tags={tags} onChange={setTags} />
          <Button
            busy={action.busy}
            onClick={() =>
              void action.run(async () => {
                await s3(region).send(new PutObjectTaggingCommand({ Bucket: bucket, Key: objectKey, VersionId: versionId, Tagging: { TagSet: tags } }));
                state.reload();
                return 'Tags saved.';
              })
            }
          >
            Save object tags
          </Button>
          <Outcome action={action} />
        </>
      )}
    </Loading>
  );
}

export const objectHref = (bucket: string, key: string): string => href(['bucket', bucket, 'objects'], { key, prefix: key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : undefined });
