/**
 * `meridian explain`: reads the data directory directly (like `meridian accounts`, safe next to a
 * running server) and prints the decision for a hypothetical request with the deciding statements
 * and every condition that failed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../common/clock.js';
import { explainDecision } from '../policy/index.js';
import type { ConditionValue } from '../policy/types.js';
import { explain, ExplainError, type ExplainStores } from '../services/iam/explain.js';
import { loadConfig } from '../server/config.js';
import { openGlobalStores, openKmsKeyStore, openPostgresMetadata, openRegionMetadataStore, type SqliteRegionMetadataStore } from '../storage/index.js';

export interface ExplainOptions {
  principal: string;
  action: string;
  resource: string;
  context: string[];
  insecure?: boolean;
  json?: boolean;
}

/** `key=value` pairs; a key given twice becomes multivalued (aws:TagKeys, kms:EncryptionContextKeys...). */
export function parseContext(pairs: string[]): Record<string, ConditionValue> {
  const out: Record<string, ConditionValue> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ExplainError(`--context expects key=value, got '${pair}'`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const prev = out[key];
    out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return out;
}

/** Returns the process exit code: 0 allowed, 3 denied. */
export async function runExplain(opts: ExplainOptions, write: (s: string) => void): Promise<number> {
  const config = loadConfig();
  if (config.metadataUrl) {
    // PostgreSQL: every region's metadata is in the database (a region without rows explains as empty).
    const pg = await openPostgresMetadata(config.metadataUrl, { max: 2, applicationName: 'meridian explain' });
    try {
      const known = (name: string) => /^[a-z0-9-]+$/.test(name);
      return await decide(opts, write, {
        iam: pg.global.iam,
        directory: pg.global.directory,
        regionStore: async (name) => (known(name) ? pg.regionStore(name) : undefined),
        kmsKeys: async (name) => (known(name) ? pg.kmsKeyStore(name) : undefined),
      });
    } finally {
      await pg.close();
    }
  }
  const globalDb = join(config.dataDir, 'global', 'global.db');
  if (!existsSync(globalDb)) throw new ExplainError(`no Meridian data in ${config.dataDir} (set MERIDIAN_DATA_DIR)`);
  const global = openGlobalStores(globalDb);
  const regions = new Map<string, SqliteRegionMetadataStore>();
  const region = (name: string): SqliteRegionMetadataStore | undefined => {
    const file = join(config.dataDir, name, 'meta.db');
    if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) return undefined;
    let r = regions.get(name);
    if (!r) {
      r = openRegionMetadataStore(file, name);
      regions.set(name, r);
    }
    return r;
  };
  const stores: ExplainStores = {
    iam: global.iam,
    directory: global.directory,
    regionStore: async (name) => region(name),
    kmsKeys: async (name) => {
      const r = region(name);
      return r ? openKmsKeyStore(r) : undefined;
    },
  };
  try {
    return await decide(opts, write, stores);
  } finally {
    for (const r of regions.values()) await r.close();
    await global.close();
  }
}

async function decide(opts: ExplainOptions, write: (s: string) => void, stores: ExplainStores): Promise<number> {
  const req = { principal: opts.principal, action: opts.action, resource: opts.resource, context: parseContext(opts.context), secureTransport: !opts.insecure };
  const { input, decision } = await explain(stores, systemClock, req);
  if (opts.json) write(JSON.stringify({ request: input.request, decision }, null, 2));
  else write(explainDecision(input, decision));
  return decision.outcome === 'Allow' ? 0 : 3;
}
