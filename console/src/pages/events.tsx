/** Live replication events (S3 event notifications from /_meridian/replication/events), newest first. */
import { useEffect, useState } from 'preact/hooks';
import { adminStream } from '../admin';
import { when } from '../lib/format';
import { navigate } from '../router';
import { ErrorBox, Table, TextInput } from '../ui';
import { objectHref, WhyPanel } from './objects';
import type { ReplicationRecord } from './replication';

const MAX = 500;

export function EventsPage({ query }: { query: URLSearchParams }) {
  const bucket = query.get('bucket') ?? '';
  const [filter, setFilter] = useState(bucket);
  const [events, setEvents] = useState<ReplicationRecord[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<unknown>(undefined);
  const [why, setWhy] = useState<ReplicationRecord | undefined>(undefined);
  useEffect(() => {
    const abort = new AbortController();
    setEvents([]);
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          setState('connecting');
          await adminStream(
            '/_meridian/replication/events',
            { bucket: bucket || undefined },
            (v) => {
              const rec = (v as { Records?: ReplicationRecord[] }).Records?.[0];
              if (rec) setEvents((e) => [rec, ...e].slice(0, MAX));
            },
            abort.signal,
            () => {
              setState('live');
              setError(undefined);
            },
          );
        } catch (e) {
          if (abort.signal.aborted) return;
          setError(e);
        }
        setState('reconnecting');
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    return () => abort.abort();
  }, [bucket]);
  return (
    <>
      <h1>Replication events</h1>
      <form
        class="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(['events'], { bucket: filter.trim() || undefined });
        }}
      >
        <TextInput label="Source bucket (all you may read when empty)" value={filter} onInput={setFilter} />
        <button type="submit">Follow</button>
        <span class={`badge ${state === 'live' ? 'status-completed' : 'status-pending'}`} role="status">
          {state}
        </span>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {events.length === 0 ? (
        <p class="muted">Waiting for events… they appear here as replication happens (failures, missed thresholds, late replications).</p>
      ) : (
        <Table label="Replication events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Object</th>
              <th scope="col">Destination</th>
              <th scope="col">Reason</th>
              <th scope="col">Explain</th>
            </tr>
          </thead>
          <tbody>
            {events.map((r, i) => {
              const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
              return (
                <tr key={i}>
                  <td>{when(r.eventTime)}</td>
                  <td>{r.eventName.replace(/^Replication:/, '')}</td>
                  <td>
                    <a href={objectHref(r.s3.bucket.name, key)}>
                      {r.s3.bucket.name}/{key}
                    </a>
                    <div class="mono small">{r.s3.object.versionId}</div>
                  </td>
                  <td>{r.replicationEventData?.destinationBucket?.replace(/^arn:aws:s3:::/, '')}</td>
                  <td>
                    {r.replicationEventData?.failureReason && <code>{r.replicationEventData.failureReason}</code>}
                    {r.meridian?.detail && <div class="small">{r.meridian.detail}</div>}
                  </td>
                  <td>
                    <button type="button" class="link" onClick={() => setWhy(r)}>
                      Why?
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
      {why && (
        <section class="card" aria-label="Explanation">
          <h2>
            Why: {why.s3.bucket.name}/{decodeURIComponent(why.s3.object.key.replace(/\+/g, ' '))}
          </h2>
          <WhyPanel key={`${why.s3.object.key}/${why.s3.object.versionId}`} bucket={why.s3.bucket.name} objectKey={decodeURIComponent(why.s3.object.key.replace(/\+/g, ' '))} {...(why.s3.object.versionId ? { versionId: why.s3.object.versionId } : {})} />
        </section>
      )}
    </>
  );
}
