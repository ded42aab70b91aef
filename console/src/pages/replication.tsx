/**
 * Replication of a bucket: the rules editor (V1/V2, filters, priorities, ReplicaKmsKeyID; S3's own
 * validation errors shown in place) and the dashboard — pending operations and bytes per rule and
 * destination, failures by reason, lag p50/p99 over time, and "why?" for any version.
 */
import { DeleteBucketReplicationCommand, GetBucketReplicationCommand, PutBucketReplicationCommand, type ReplicationConfiguration } from '@aws-sdk/client-s3';
import { useEffect, useState } from 'preact/hooks';
import { adminJson, adminStream, adminText } from '../admin';
import { s3 } from '../aws';
import { bucketRegion, keyChoices, listBuckets, roleArns } from '../lib/catalog';
import { bytes, ms, when } from '../lib/format';
import { checkJson } from '../lib/json-check';
import { histogramDelta, lagPoint, latencyHistograms, parsePrometheus, type Histograms, type LagPoint, type RuleKey } from '../lib/metrics';
import { emptyRule, fromConfiguration, toConfiguration, type ReplicationForm, type RuleForm } from '../lib/replication-model';
import { BucketHeader, orEmpty } from './bucket-tabs';
import { LagChart } from './lag-chart';
import { objectHref, WhyPanel } from './objects';
import { TagRows } from './tag-rows';
import { Button, Check, ErrorBox, JsonEditor, Loading, Select, Table, TextInput, pretty, useAction, useAsync } from '../ui';

export function ReplicationPage({ bucket }: { bucket: string }) {
  const region = useAsync(() => bucketRegion(bucket), [bucket]);
  return (
    <>
      <BucketHeader bucket={bucket} current="replication" />
      <h1>Replication of {bucket}</h1>
      <Loading state={region}>
        {() => (
          <>
            <Dashboard bucket={bucket} />
            <RulesEditor bucket={bucket} region={region.data!} />
          </>
        )}
      </Loading>
    </>
  );
}

// ------------------------------------------------------------------------------- rules editor

function RulesEditor({ bucket, region }: { bucket: string; region: string }) {
  const client = s3(region);
  const current = useAsync(() => orEmpty(client.send(new GetBucketReplicationCommand({ Bucket: bucket }))), [bucket]);
  const [form, setForm] = useState<ReplicationForm>({ role: '', rules: [] });
  const [asJson, setAsJson] = useState(false);
  const [json, setJson] = useState('');
  const roles = useAsync(roleArns, []);
  const buckets = useAsync(listBuckets, []);
  const action = useAction();
  useEffect(() => {
    if (current.data === undefined) return;
    const f = fromConfiguration(current.data?.ReplicationConfiguration);
    setForm(f.rules.length ? f : { role: f.role, rules: [emptyRule(1)] });
  }, [current.data]);
  const config = (): ReplicationConfiguration => (asJson ? (JSON.parse(json) as ReplicationConfiguration) : toConfiguration(form));
  const setRule = (i: number, r: RuleForm) => setForm({ ...form, rules: form.rules.map((x, j) => (j === i ? r : x)) });
  const save = () =>
    action.run(async () => {
      await client.send(new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: config() }));
      current.reload();
      return 'Replication configuration saved.';
    });
  return (
    <section class="card" aria-labelledby="rules">
      <h2 id="rules">Replication rules</h2>
      <Loading state={{ ...current, data: current.data === undefined ? undefined : 1 }}>
        {() => (
          <form
            aria-label="Replication rules"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <div class="row wrap">
              <Check
                label="Edit as JSON"
                checked={asJson}
                onChange={(v) => {
                  if (v) setJson(pretty(toConfiguration(form)));
                  else if (!checkJson(json)) setForm(fromConfiguration(JSON.parse(json) as ReplicationConfiguration));
                  setAsJson(v);
                }}
              />
              {!current.data && <span class="muted">This bucket has no replication configuration yet.</span>}
            </div>
            {asJson ? (
              <JsonEditor label="Replication configuration (JSON, as in put-bucket-replication)" value={json} onInput={setJson} check={checkJson} rows={18} />
            ) : (
              <>
                <TextInput label="IAM role" value={form.role} onInput={(role) => setForm({ ...form, role })} list="replication-roles" placeholder="arn:aws:iam::…:role/…" />
                <datalist id="replication-roles">
                  {(roles.data ?? []).map((r) => (
                    <option key={r} value={r} />
                  ))}
                </datalist>
                <datalist id="replication-buckets">
                  {(buckets.data ?? []).filter((b) => b.name !== bucket).map((b) => (
                    <option key={b.name} value={b.name}>
                      {b.region}
                    </option>
                  ))}
                </datalist>
                {form.rules.map((r, i) => (
                  <RuleEditor
                    key={i}
                    n={i + 1}
                    rule={r}
                    onChange={(x) => setRule(i, x)}
                    onRemove={() => setForm({ ...form, rules: form.rules.filter((_, j) => j !== i) })}
                  />
                ))}
                <Button onClick={() => setForm({ ...form, rules: [...form.rules, emptyRule(form.rules.length + 1, form.rules[0]?.schema ?? 'V2')] })}>Add rule</Button>
              </>
            )}
            {action.error !== undefined && <ErrorBox error={action.error} title="S3 rejected the configuration" />}
            {action.done && (
              <p class="ok" role="status">
                {action.done}
              </p>
            )}
            <div class="row">
              <button type="submit" class="primary" disabled={action.busy}>
                Save replication configuration
              </button>
              <Button
                disabled={!current.data || action.busy}
                onClick={() =>
                  void action.run(async () => {
                    await client.send(new DeleteBucketReplicationCommand({ Bucket: bucket }));
                    current.reload();
                    return 'Replication configuration deleted.';
                  })
                }
              >
                Delete configuration
              </Button>
            </div>
          </form>
        )}
      </Loading>
    </section>
  );
}

const STORAGE_CLASSES: [string, string][] = [['', 'Same as source'], ...['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE', 'REDUCED_REDUNDANCY'].map((s): [string, string] => [s, s])];

function RuleEditor({ n, rule, onChange, onRemove }: { n: number; rule: RuleForm; onChange: (r: RuleForm) => void; onRemove: () => void }) {
  const set = (patch: Partial<RuleForm>) => onChange({ ...rule, ...patch });
  const destRegion = useAsync(() => (rule.destinationBucket.trim() ? bucketRegion(rule.destinationBucket.replace(/^arn:aws:s3:::/, '').trim()) : Promise.resolve('')), [rule.destinationBucket]);
  const keys = useAsync(() => (destRegion.data ? keyChoices(destRegion.data) : Promise.resolve([])), [destRegion.data]);
  const v2 = rule.schema === 'V2';
  return (
    <fieldset class="rule">
      <legend>
        Rule {n}
        {rule.id ? `: ${rule.id}` : ''}
      </legend>
      <div class="grid">
        <TextInput label={`Rule ${n} ID`} value={rule.id} onInput={(id) => set({ id })} />
        <Select label={`Rule ${n} status`} value={rule.status} onChange={(v) => set({ status: v as RuleForm['status'] })} options={['Enabled', 'Disabled']} />
        <Select
          label={`Rule ${n} schema`}
          value={rule.schema}
          onChange={(v) => set({ schema: v as RuleForm['schema'] })}
          options={[
            ['V2', 'V2 (Filter, Priority, delete markers)'],
            ['V1', 'V1 (rule Prefix)'],
          ]}
        />
        {v2 && <TextInput label={`Rule ${n} priority`} value={rule.priority} onInput={(priority) => set({ priority })} type="number" />}
        <TextInput label={`Rule ${n} prefix`} value={rule.prefix} onInput={(prefix) => set({ prefix })} placeholder="all objects when empty" />
        <TextInput label={`Rule ${n} destination bucket`} value={rule.destinationBucket} onInput={(destinationBucket) => set({ destinationBucket })} list="replication-buckets" hint={destRegion.data ? `in ${destRegion.data}` : undefined} />
        <TextInput label={`Rule ${n} ReplicaKmsKeyID`} value={rule.replicaKmsKeyId} onInput={(replicaKmsKeyId) => set({ replicaKmsKeyId })} list={`rule-${n}-keys`} placeholder="destination region key ARN" />
        <datalist id={`rule-${n}-keys`}>
          {(keys.data ?? []).map((k) => (
            <option key={k.arn} value={k.arn}>
              {k.label}
            </option>
          ))}
        </datalist>
        <Select label={`Rule ${n} storage class`} value={rule.storageClass} onChange={(storageClass) => set({ storageClass })} options={STORAGE_CLASSES} />
        <TextInput label={`Rule ${n} destination account`} value={rule.destinationAccount} onInput={(destinationAccount) => set({ destinationAccount })} placeholder="same account when empty" />
      </div>
      <div class="row wrap">
        <Check label={`Replicate SSE-KMS encrypted objects (rule ${n})`} checked={rule.sseKms} onChange={(sseKms) => set({ sseKms })} />
        {v2 && <Check label={`Replicate delete markers (rule ${n})`} checked={rule.deleteMarkers} onChange={(deleteMarkers) => set({ deleteMarkers })} />}
        <Check label={`Replica modifications (rule ${n})`} checked={rule.replicaModifications} onChange={(replicaModifications) => set({ replicaModifications })} />
        <Check label={`Replication Time Control (rule ${n})`} checked={rule.rtc} onChange={(rtc) => set({ rtc })} />
        <Check label={`Owner override to destination (rule ${n})`} checked={rule.ownerOverride} onChange={(ownerOverride) => set({ ownerOverride })} />
      </div>
      {v2 && <TagRows label={`Rule ${n} tag filter`} tags={rule.tags.map((t) => ({ Key: t.key, Value: t.value }))} onChange={(t) => set({ tags: t.map((x) => ({ key: x.Key, value: x.Value })) })} />}
      <Button class="link" onClick={onRemove}>
        Remove rule {n}
      </Button>
    </fieldset>
  );
}

// ---------------------------------------------------------------------------------- dashboard

interface StatusReport {
  bucket: string;
  region: string;
  pending: { operations: number; bytes: number; oldestAgeSeconds: number; byDestination: { destinationBucket: string; ruleId: string; operations: number; bytes: number; oldestAgeSeconds: number }[] };
  failed: { total: number; byReason: { destinationBucket: string; ruleId?: string; reason: string; count: number }[] };
  retrying: { key: string; versionId: string; destinationBucket: string; attempts: number; lastError?: string; nextAttemptAt: string }[];
  lag: { count: number; p50Ms?: number; p90Ms?: number; p99Ms?: number; maxMs?: number };
}

/** Lag samples per bucket, kept while the tab is open (navigating away and back keeps the history). */
const history = new Map<string, { last?: Histograms; series: Map<string, { key: RuleKey; points: LagPoint[] }> }>();
const MAX_POINTS = 120;
const SAMPLE_MS = 3000;

interface FailureEvent {
  time: string;
  key: string;
  versionId?: string;
  reason?: string;
  destination?: string;
}

function Dashboard({ bucket }: { bucket: string }) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), SAMPLE_MS);
    return () => clearInterval(t);
  }, []);
  const status = useAsync(() => adminJson<StatusReport>('/_meridian/replication/status', { bucket }), [bucket, tick]);
  const [metricsError, setMetricsError] = useState<unknown>(undefined);
  const [, redraw] = useState(0);
  useEffect(() => {
    let h = history.get(bucket);
    if (!h) history.set(bucket, (h = { series: new Map() }));
    const entry = h;
    adminText('/_meridian/metrics').then(
      (text) => {
        const now = Date.now();
        const current = latencyHistograms(parsePrometheus(text), bucket);
        const delta = histogramDelta(entry.last, current);
        if (entry.last) {
          for (const [id, d] of delta) {
            let s = entry.series.get(id);
            if (!s) entry.series.set(id, (s = { key: d.key, points: [] }));
            s.points.push(lagPoint(now, d.buckets));
            if (s.points.length > MAX_POINTS) s.points.shift();
          }
        }
        entry.last = current;
        setMetricsError(undefined);
        redraw((n) => n + 1);
      },
      (e: unknown) => setMetricsError(e),
    );
  }, [bucket, tick]);
  const failures = useFailureEvents(bucket);
  const [explainKey, setExplainKey] = useState('');
  const [explainVersion, setExplainVersion] = useState('');
  const [explaining, setExplaining] = useState<{ key: string; versionId?: string } | undefined>(undefined);
  const series = [...(history.get(bucket)?.series.values() ?? [])];
  const s = status.data;
  return (
    <section class="card" aria-labelledby="dashboard">
      <h2 id="dashboard">Replication health</h2>
      {status.error !== undefined && !s && <ErrorBox error={status.error} />}
      {s && (
        <>
          <div class="stats">
            <div>
              <span class="stat" data-testid="pending-operations">{s.pending.operations}</span> pending operations
            </div>
            <div>
              <span class="stat">{bytes(s.pending.bytes)}</span> pending
            </div>
            <div>
              <span class="stat" data-testid="failed-total">{s.failed.total}</span> failed
            </div>
            <div>
              <span class="stat">{ms(s.lag.p50Ms)}</span> lag p50 / <span class="stat">{ms(s.lag.p99Ms)}</span> p99 (last {s.lag.count})
            </div>
          </div>
          <h3>Pending by rule and destination</h3>
          {s.pending.byDestination.length === 0 ? (
            <p class="muted">Nothing pending.</p>
          ) : (
            <Table label="Pending by destination">
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Destination</th>
                  <th scope="col">Operations</th>
                  <th scope="col">Bytes</th>
                  <th scope="col">Oldest</th>
                </tr>
              </thead>
              <tbody>
                {s.pending.byDestination.map((d) => (
                  <tr key={`${d.ruleId}/${d.destinationBucket}`}>
                    <td>{d.ruleId}</td>
                    <td>{d.destinationBucket}</td>
                    <td>{d.operations}</td>
                    <td>{bytes(d.bytes)}</td>
                    <td>{d.oldestAgeSeconds} s</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          <h3>Failures by reason</h3>
          {s.failed.byReason.length === 0 ? (
            <p class="muted">No failed versions.</p>
          ) : (
            <Table label="Failures by reason">
              <thead>
                <tr>
                  <th scope="col">Reason</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Destination</th>
                  <th scope="col">Versions</th>
                </tr>
              </thead>
              <tbody>
                {s.failed.byReason.map((f) => (
                  <tr key={`${f.reason}/${f.ruleId}/${f.destinationBucket}`}>
                    <td>
                      <code>{f.reason}</code>
                    </td>
                    <td>{f.ruleId ?? '–'}</td>
                    <td>{f.destinationBucket}</td>
                    <td>{f.count}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          {s.retrying.length > 0 && (
            <>
              <h3>Retrying (transient errors)</h3>
              <ul>
                {s.retrying.map((r) => (
                  <li key={`${r.key}/${r.versionId}`}>
                    <a href={objectHref(bucket, r.key)}>{r.key}</a> → {r.destinationBucket}: {r.attempts} attempt(s), next {when(r.nextAttemptAt)}
                    {r.lastError && <span class="muted"> — {r.lastError}</span>}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <h3>Lag over time, per rule</h3>
      {metricsError !== undefined && <ErrorBox error={metricsError} title="Metrics unavailable" />}
      {series.length === 0 ? (
        <p class="muted small">No replication has completed for this bucket since the server started; the chart starts with the first one.</p>
      ) : (
        series.map((x) => (
          <div key={`${x.key.ruleId}/${x.key.destination}`}>
            <h4>
              Rule {x.key.ruleId || '(no id)'} → {x.key.destination}
            </h4>
            <LagChart points={x.points} label={`Replication lag of rule ${x.key.ruleId} to ${x.key.destination}`} />
          </div>
        ))
      )}
      <h3>Recent failures</h3>
      {failures.length === 0 ? (
        <p class="muted small">None since this page opened (live).</p>
      ) : (
        <ul class="failures" aria-label="Recent failures">
          {failures.map((f, i) => (
            <li key={i}>
              {when(f.time)} <a href={objectHref(bucket, f.key)}>{f.key}</a> <span class="mono small">{f.versionId}</span> <code>{f.reason}</code>{' '}
              <Button class="link" onClick={() => setExplaining({ key: f.key, ...(f.versionId ? { versionId: f.versionId } : {}) })}>
                Why?
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="row wrap"
        aria-label="Explain a version"
        onSubmit={(e) => {
          e.preventDefault();
          if (explainKey.trim()) setExplaining({ key: explainKey.trim(), ...(explainVersion.trim() ? { versionId: explainVersion.trim() } : {}) });
        }}
      >
        <TextInput label="Object key" value={explainKey} onInput={setExplainKey} />
        <TextInput label="Version ID (latest when empty)" value={explainVersion} onInput={setExplainVersion} />
        <button type="submit">Explain replication</button>
      </form>
      {explaining && <WhyPanel key={`${explaining.key}/${explaining.versionId}`} bucket={bucket} objectKey={explaining.key} {...(explaining.versionId ? { versionId: explaining.versionId } : {})} />}
    </section>
  );
}

/** OperationFailedReplication events of this bucket, live, newest first. */
function useFailureEvents(bucket: string): FailureEvent[] {
  const [events, setEvents] = useState<FailureEvent[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    const follow = async () => {
      while (!abort.signal.aborted) {
        try {
          await adminStream('/_meridian/replication/events', { bucket }, (v) => {
            const rec = (v as { Records?: ReplicationRecord[] }).Records?.[0];
            if (!rec || !rec.eventName.endsWith('OperationFailedReplication')) return;
            setEvents((e) => [toFailure(rec), ...e].slice(0, 50));
          }, abort.signal);
        } catch {
          // Signed requests expire and streams end: wait, then follow again.
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    void follow();
    return () => abort.abort();
  }, [bucket]);
  return events;
}

export interface ReplicationRecord {
  eventName: string;
  eventTime: string;
  s3: { bucket: { name: string }; object: { key: string; versionId?: string; size?: number } };
  replicationEventData?: { replicationRuleId?: string; destinationBucket?: string; failureReason?: string; s3Operation?: string };
  meridian?: { explanation?: string; detail?: string; region?: string };
}

function toFailure(r: ReplicationRecord): FailureEvent {
  const f: FailureEvent = { time: r.eventTime, key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')) };
  if (r.s3.object.versionId) f.versionId = r.s3.object.versionId;
  if (r.replicationEventData?.failureReason) f.reason = r.replicationEventData.failureReason;
  if (r.replicationEventData?.destinationBucket) f.destination = r.replicationEventData.destinationBucket;
  return f;
}
