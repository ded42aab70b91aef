/** Lifecycle arithmetic and filters, without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueAt, ruleMatches } from './lifecycle.js';
import type { LifecycleRule } from './lifecycle-config.js';

test('due = start + days, rounded up to the next midnight UTC (AWS’s worked example)', () => {
  // Created 2014-01-15 10:30 UTC with 3 days: due 2014-01-19 00:00 UTC.
  assert.equal(new Date(dueAt(Date.parse('2014-01-15T10:30:00Z'), 3)).toISOString(), '2014-01-19T00:00:00.000Z');
  assert.equal(new Date(dueAt(Date.parse('2014-01-15T00:00:00Z'), 1)).toISOString(), '2014-01-16T00:00:00.000Z', 'midnight stays midnight');
});

test('a rule matches only when enabled and every predicate holds', () => {
  const rule: LifecycleRule = {
    id: 'r',
    status: 'Enabled',
    filter: { form: 'and', prefix: 'p/', tags: { a: '1', b: '2' }, sizeGreaterThan: 10, sizeLessThan: 100 },
    transitions: [],
    noncurrentTransitions: [],
    expiration: { days: 1 },
  };
  const v = { key: 'p/x', size: 50, tags: { a: '1', b: '2', c: '3' } };
  assert.equal(ruleMatches(rule, v), true);
  assert.equal(ruleMatches(rule, { ...v, key: 'q/x' }), false);
  assert.equal(ruleMatches(rule, { ...v, tags: { a: '1' } }), false);
  assert.equal(ruleMatches(rule, { ...v, size: 10 }), false, 'ObjectSizeGreaterThan is strict');
  assert.equal(ruleMatches(rule, { ...v, size: 100 }), false, 'ObjectSizeLessThan is strict');
  assert.equal(ruleMatches({ ...rule, status: 'Disabled' }, v), false);
  assert.equal(ruleMatches({ ...rule, filter: undefined, prefix: 'p/' } as LifecycleRule, { key: 'p/y', size: 0 }), true, 'legacy rule-level prefix');
});
