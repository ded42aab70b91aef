/**
 * docs/s3-compatibility.md lists every operation of botocore's S3 model exactly once; "yes" rows
 * are exactly the operations with a handler in the operation table, each with at least one linked
 * test that exists; "no" rows are not served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMPLEMENTED_OPERATIONS } from '../../src/services/s3/operations.js';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Row {
  operation: string;
  implemented: boolean;
  tests: string[];
}

function rows(): Row[] {
  const doc = readFileSync(join(ROOT, 'docs/s3-compatibility.md'), 'utf8');
  return doc
    .split('\n')
    .filter((l) => /^\| [A-Z]\w+ \| (yes|no) \|/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return { operation: cells[1]!, implemented: cells[2] === 'yes', tests: [...cells[3]!.matchAll(/\]\(\.\.\/([^)]+)\)/g)].map((m) => m[1]!) };
    });
}

test('every operation of botocore’s S3 model has exactly one row', () => {
  const model = execFileSync('python3', ['-c', "import botocore.session; print('\\n'.join(botocore.session.get_session().get_service_model('s3').operation_names))"], { encoding: 'utf8' })
    .trim()
    .split('\n');
  const listed = rows().map((r) => r.operation);
  assert.deepEqual([...listed].sort(), [...new Set(listed)].sort(), 'no operation is listed twice');
  assert.deepEqual([...listed].sort(), [...model].sort());
});

test('"yes" rows are exactly the operations with a handler, each proven by tests that exist', () => {
  const table = rows();
  const yes = table.filter((r) => r.implemented).map((r) => r.operation).sort();
  assert.deepEqual(yes, [...IMPLEMENTED_OPERATIONS].sort(), 'docs/s3-compatibility.md must say "yes" for exactly the implemented operations');
  for (const r of table.filter((x) => x.implemented)) {
    assert.ok(r.tests.length > 0, `${r.operation} names a test`);
    for (const t of r.tests) assert.ok(existsSync(join(ROOT, t)), `${r.operation}: ${t} exists`);
  }
});
