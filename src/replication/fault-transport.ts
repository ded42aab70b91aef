/**
 * Destination faults on the replication path (MERIDIAN_FAULTS=on only): wraps a transport so that
 * replica writes to a faulted destination fail as a refused connection (unreachable), a 500
 * (flaky), a 503 SlowDown (throttle), or wait first (slow). Reads, role sessions and everything on
 * the source side pass through untouched. The errors say which fault made them, so status, logs
 * and explain show it.
 */
import type { Clock } from '../common/clock.js';
import type { FaultRegistry } from '../faults/registry.js';
import type { Fault } from '../faults/spec.js';
import type { DestinationBucket, ReplicationTransport, WriteOptions } from './ports.js';

/** Wait `ms` of business time: a test clock advance cuts it short; with the system clock it is a sleep. */
export async function waitOnClock(clock: Clock, ms: number): Promise<void> {
  const until = clock.now() + ms;
  for (let left = ms; left > 0; left = until - clock.now()) await new Promise((r) => setTimeout(r, Math.min(left, 100)));
}

export function injectedError(f: Fault, destination: DestinationBucket): Error {
  const tag = `(injected fault ${f.id}: ${f.kind} ${destination.region})`;
  switch (f.kind) {
    case 'unreachable':
      return Object.assign(new Error(`connect ECONNREFUSED: region ${destination.region} unreachable ${tag}`), { code: 'ECONNREFUSED' });
    case 'throttle':
      return new Error(`destination answered HTTP 503 SlowDown: Please reduce your request rate. ${tag}`);
    default:
      return new Error(`destination answered HTTP 500 InternalError: We encountered an internal error. Please try again. ${tag}`);
  }
}

export function withDestinationFaults(transport: ReplicationTransport, faults: FaultRegistry, clock: Clock): ReplicationTransport {
  const before = async (destination: DestinationBucket): Promise<void> => {
    for (const f of faults.destination(destination.region, destination.name)) {
      if (f.kind === 'slow') {
        faults.injected(f);
        await waitOnClock(clock, f.latencyMs ?? 0);
      } else if (f.kind === 'unreachable' || faults.chance() < (f.errorRate ?? 1)) {
        faults.injected(f);
        throw injectedError(f, destination);
      }
    }
  };
  const wrapped: ReplicationTransport = Object.create(transport) as ReplicationTransport;
  return Object.assign(wrapped, {
    writeReplica: async (creds, destination, rule, source, opts?: WriteOptions) => {
      await before(destination);
      return transport.writeReplica(creds, destination, rule, source, opts);
    },
    writeDeleteMarker: async (creds, destination, marker, opts?: WriteOptions) => {
      await before(destination);
      return transport.writeDeleteMarker(creds, destination, marker, opts);
    },
    writeReplicaTags: async (creds, destination, key, versionId, tags, opts?: WriteOptions) => {
      await before(destination);
      return transport.writeReplicaTags(creds, destination, key, versionId, tags, opts);
    },
  } satisfies Pick<ReplicationTransport, 'writeReplica' | 'writeDeleteMarker' | 'writeReplicaTags'>);
}
