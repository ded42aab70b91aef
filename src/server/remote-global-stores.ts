/**
 * The global stores (IAM/STS, accounts, bucket names) of a process that does not own them: every
 * call goes to the home region's process, reads are cached briefly. One RPC shape for every
 * method, so the remote stores follow the interfaces without a second implementation of them.
 *
 * Cache: a read answered with a value is reused while the RPC that fetched it was sent less than
 * CACHE_MS ago (a role-policy change reaches the other processes within that). Once an entry is
 * REFRESH_MS old, the next read still gets it but starts a refresh in the background, so steady
 * traffic never waits for the home process (before, every request that met an expired entry did,
 * and on a busy home that stalled replicas for tens or hundreds of milliseconds every 2 s).
 * "Not found" is never cached (a new session key must work at once); any write through this
 * process clears the cache.
 */
import type { BucketDirectory, GlobalStores, IamStore } from '../storage/index.js';
import type { Logger } from './logger.js';
import { PeerReachability } from './peer-reachability.js';
import { peerCall, type SplitConfig } from './peers.js';

const CACHE_MS = 2000;
const REFRESH_MS = 1000;
export const GLOBAL_RPC_PATH = '/_meridian/internal/global';

type StoreName = 'iam' | 'directory';
export interface GlobalRpc {
  store: StoreName;
  method: string;
  args: unknown[];
}

/** Writes are named for what they change; everything else (get…, list…, lookup, changeToken…) is a read. */
function isRead(method: string): boolean {
  return !/^(create|put|update|delete|add|remove|attach|detach|claim|release|set|tag|untag|rotate)/.test(method);
}

interface Entry {
  /** When the RPC behind `value` was sent. */
  at: number;
  value: Promise<unknown>;
  refreshing?: boolean;
}

export class RemoteStores {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly rpc: (call: GlobalRpc) => Promise<unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  call(store: StoreName, method: string, args: unknown[]): Promise<unknown> {
    if (!isRead(method)) {
      this.cache.clear();
      return this.rpc({ store, method, args });
    }
    const key = `${store}.${method}:${JSON.stringify(args)}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < CACHE_MS) {
      if (now - hit.at >= REFRESH_MS && !hit.refreshing) this.refresh(key, hit, { store, method, args });
      return hit.value;
    }
    return this.fetch(key, { store, method, args });
  }

  private fetch(key: string, call: GlobalRpc): Promise<unknown> {
    const entry: Entry = { at: this.now(), value: this.rpc(call) };
    this.cache.set(key, entry);
    entry.value.then(
      (v) => {
        if ((v === undefined || v === null) && this.cache.get(key) === entry) this.cache.delete(key);
      },
      () => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
      },
    );
    if (this.cache.size > 10_000) this.cache.clear();
    return entry.value;
  }

  /** Fetch again in the background; readers keep the current answer until the new one is in. */
  private refresh(key: string, current: Entry, call: GlobalRpc): void {
    current.refreshing = true;
    const at = this.now();
    this.rpc(call).then(
      (v) => {
        // Not stored if a write dropped the entry meanwhile: the answer may predate the write.
        if (this.cache.get(key) !== current) return;
        if (v === undefined || v === null) this.cache.delete(key);
        else this.cache.set(key, { at, value: Promise.resolve(v) });
      },
      () => {
        // The entry expires on its own; the next read after that asks again.
        current.refreshing = false;
      },
    );
  }

  proxy<T extends object>(store: StoreName): T {
    return new Proxy({} as T, {
      get: (_t, method) => {
        if (method === 'close') return async () => undefined;
        if (typeof method !== 'string' || method === 'then') return undefined;
        return (...args: unknown[]) => this.call(store, method, args);
      },
    });
  }
}

/**
 * The global stores at the home region's process. A home that cannot be reached makes every call a
 * DependencyUnavailableError (503 to clients, a retry for replication) within the peer timeouts,
 * and at once while it stays unreachable (peer-reachability.ts).
 */
export function remoteGlobalStores(homeUrl: string, split: Pick<SplitConfig, 'keys' | 'ca' | 'timeouts' | 'home'>, log?: Pick<Logger, 'warn' | 'info'>): GlobalStores {
  const name = `the home region ${split.home}'s process (IAM, STS, accounts, bucket names) at ${homeUrl}`;
  const send = (call: GlobalRpc) => peerCall(homeUrl, split, GLOBAL_RPC_PATH, call, name);
  const reachability = new PeerReachability(
    () => send({ store: 'iam', method: 'changeToken', args: [] }),
    (c) => {
      if (!c.reachable) log?.warn({ home: split.home, url: homeUrl, reason: c.error.message, effect: 'requests that need IAM, STS, accounts or bucket names answer 503 until it is back' }, 'home region unreachable');
      else log?.info({ home: split.home, url: homeUrl, downMs: c.downMs }, 'home region reachable again');
    },
  );
  const remote = new RemoteStores((call) => reachability.call(() => send(call)));
  return { iam: remote.proxy<IamStore>('iam'), directory: remote.proxy<BucketDirectory>('directory'), close: async () => undefined };
}

/** The home side: run one RPC against the local global stores. */
export async function serveGlobalRpc(stores: GlobalStores, request: { store?: unknown; method?: unknown; args?: unknown }): Promise<unknown> {
  const { store, method, args } = request;
  if ((store !== 'iam' && store !== 'directory') || typeof method !== 'string' || !Array.isArray(args) || method === 'close' || method.startsWith('_')) {
    throw new Error('bad global store call');
  }
  const target = stores[store] as unknown as Record<string, unknown>;
  const fn = target[method];
  if (typeof fn !== 'function') throw new Error(`no method ${store}.${method}`);
  return (fn as (...a: unknown[]) => Promise<unknown>).apply(target, args);
}
