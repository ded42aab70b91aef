/**
 * Whether a policy refers to a condition key (by prefix), in a condition or as a policy variable.
 * Lets callers skip work for keys that are costly to fill in (s3:ExistingObjectTag/ needs a metadata
 * read) when no applicable policy could look at them. Cached per policy, which is immutable.
 */
import type { ParsedPolicy } from './types.js';

const cache = new WeakMap<ParsedPolicy, Map<string, boolean>>();

function scan(policy: ParsedPolicy, prefix: string): boolean {
  const variable = '${' + prefix;
  const inText = (s: string) => s.toLowerCase().includes(variable);
  for (const s of policy.statements) {
    for (const block of Object.values(s.condition ?? {})) {
      for (const [key, values] of Object.entries(block)) {
        if (key.toLowerCase().startsWith(prefix) || values.some(inText)) return true;
      }
    }
    if ([...(s.resource ?? []), ...(s.notResource ?? [])].some(inText)) return true;
  }
  return false;
}

/** `prefix` must be lower-case, e.g. 's3:existingobjecttag/'. */
export function policyMentions(policy: ParsedPolicy, prefix: string): boolean {
  let byPrefix = cache.get(policy);
  if (!byPrefix) {
    byPrefix = new Map();
    cache.set(policy, byPrefix);
  }
  let hit = byPrefix.get(prefix);
  if (hit === undefined) {
    hit = scan(policy, prefix);
    byPrefix.set(prefix, hit);
  }
  return hit;
}
