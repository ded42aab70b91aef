/**
 * `/_meridian/faults` (MERIDIAN_FAULTS=on only; otherwise 404): the signed fault API behind
 * `meridian faults`. Faults change how the whole process behaves, so only the root user of the
 * operator's account (MERIDIAN_ACCOUNT_ID) may use it.
 *   GET    /_meridian/faults               faults in force and those a schedule has yet to start
 *   POST   /_meridian/faults               body: a fault ({"kind", "region", "duration", …})
 *   DELETE /_meridian/faults[?id=f-1]      end one fault, or all (and the rest of a schedule)
 *   POST   /_meridian/faults/schedule      body: a schedule file ({"seed", "faults", "random"})
 */
import { ServiceError } from '../common/errors.js';
import type { FaultRegistry } from '../faults/registry.js';
import { parseSchedule } from '../faults/schedule.js';
import { describeFault, FaultSpecError, parseFaultSpec, type Fault, type FaultSpec } from '../faults/spec.js';
import { isKnownRegion } from '../regions/known-regions.js';
import type { Caller } from '../services/caller.js';

export const FAULTS_PATH = '/_meridian/faults';

export function isFaultsPath(rawPath: string): boolean {
  return rawPath === FAULTS_PATH || rawPath.startsWith(`${FAULTS_PATH}/`);
}

function view(f: Fault, now: number) {
  return { ...f, description: describeFault(f), startTime: new Date(f.startedAt).toISOString(), endTime: new Date(f.endsAt).toISOString(), remainingSeconds: Math.max(0, Math.round((f.endsAt - now) / 1000)) };
}

function scheduledView(s: { at: number; spec: FaultSpec }) {
  return { ...s.spec, description: describeFault(s.spec), startTime: new Date(s.at).toISOString() };
}

function body(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ServiceError('MalformedJSON', 400, 'The request body must be JSON.');
  }
}

export function handleFaults(
  faults: FaultRegistry,
  operatorAccountId: string,
  caller: Caller,
  req: { method: string; path: string; query: URLSearchParams; body: Buffer },
  now: number,
): { status: number; body: unknown } {
  if (caller.principal.type !== 'Account' || caller.principal.accountId !== operatorAccountId) {
    throw new ServiceError('AccessDenied', 403, `Only the root user of the operator account ${operatorAccountId} may inject faults.`);
  }
  try {
    switch (`${req.method} ${req.path}`) {
      case 'GET /faults':
        return { status: 200, body: { seed: faults.seed, faults: faults.list().map((f) => view(f, now)), scheduled: faults.scheduled().map(scheduledView) } };
      case 'POST /faults': {
        const f = faults.add(parseFaultSpec(body(req.body), isKnownRegion));
        return { status: 201, body: { fault: view(f, now) } };
      }
      case 'DELETE /faults': {
        const id = req.query.get('id') ?? undefined;
        const cleared = faults.clear(id);
        if (id !== undefined && cleared.length === 0) throw new ServiceError('NoSuchFault', 404, `No fault ${id} is in force.`);
        return { status: 200, body: { cleared: cleared.map((f) => view(f, now)) } };
      }
      case 'POST /faults/schedule': {
        const schedule = parseSchedule(body(req.body), isKnownRegion);
        const timeline = faults.runSchedule(schedule);
        return { status: 200, body: { seed: schedule.seed, timeline: timeline.map((t) => ({ ...t.fault.spec, description: describeFault(t.fault.spec), startTime: new Date(t.at).toISOString() })) } };
      }
      default:
        throw new ServiceError('NotFound', 404, `No Meridian endpoint ${req.method} /_meridian${req.path}`);
    }
  } catch (e) {
    if (e instanceof FaultSpecError) throw new ServiceError('InvalidArgument', 400, e.message);
    throw e;
  }
}
