/**
 * The global stores (IAM/STS, accounts, bucket names) of a process that does not own them: every
 * call goes to the home region's process, reads are cached briefly. One RPC shape for every
 * method, so the remote stores follow the interfaces without a second implementation of them.
 *
 * Cache: a read answered with a value is reused for CACHE_MS (a role-policy change reaches the
 * other processes within that); "not found" is never cached (a new session key must work at once);
 * any write through this process clears the cache.
 */
import type { BucketDirectory, GlobalStores, IamStore } from '../storage/index.js';
import { peerCall } from './peers.js';

const CACHE_MS = 2000;
export const GLOBAL_RPC_PATH = '/_meridian/internal/global';

type StoreName = 'iam' | 'directory';

/** Writes are named for what they change; everything else (get…, list…, lookup, changeToken…) is a read. */
function isRead(method: string): boolean {
  return !/^(create|put|update|delete|add|remove|attach|detach|claim|release|set|tag|untag|rotate)/.test(method);
}

class RemoteStores {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly homeUrl: string,
    private readonly secret: string,
  ) {}

  call(store: StoreName, method: string, args: unknown[]): Promise<unknown> {
    if (!isRead(method)) {
      this.cache.clear();
      return peerCall(this.homeUrl, this.secret, GLOBAL_RPC_PATH, { store, method, args });
    }
    const key = `${store}.${method}:${JSON.stringify(args)}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < CACHE_MS) return hit.value;
    const value = peerCall(this.homeUrl, this.secret, GLOBAL_RPC_PATH, { store, method, args });
    this.cache.set(key, { at: now, value });
    value.then(
      (v) => {
        if (v === undefined || v === null) this.cache.delete(key);
      },
      () => this.cache.delete(key),
    );
    if (this.cache.size > 10_000) this.cache.clear();
    return value;
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

export function remoteGlobalStores(homeUrl: string, secret: string): GlobalStores {
  const remote = new RemoteStores(homeUrl, secret);
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
