import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadOrCreateRootKey } from './root-key.js';

const dir = mkdtempSync(join(tmpdir(), 'meridian-root-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `case-${n++}`, 'root.key');

describe('loadOrCreateRootKey from a file', () => {
  it('creates a 0600 file of 32 random bytes (and its directory) on first use, then reads it back', () => {
    const file = freshPath();
    const key = loadOrCreateRootKey({ file });
    assert.equal(key.length, 32);
    assert.deepEqual(readFileSync(file), key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateRootKey({ file }), key, 'the same key on every later start');
    assert.deepEqual(readdirSync(join(file, '..')), ['root.key'], 'no temp files left behind');
  });

  it('gives different regions different keys', () => {
    assert.notDeepEqual(loadOrCreateRootKey({ file: freshPath() }), loadOrCreateRootKey({ file: freshPath() }));
  });

  it('refuses a file that group or others can access, without printing the key', () => {
    const file = freshPath();
    const key = loadOrCreateRootKey({ file });
    for (const mode of [0o644, 0o640, 0o604, 0o610]) {
      chmodSync(file, mode);
      assert.throws(
        () => loadOrCreateRootKey({ file }),
        (err: Error) => err.message.includes('chmod 600') && !err.message.includes(key.toString('hex')) && !err.message.includes(key.toString('base64')),
        `mode ${mode.toString(8)}`,
      );
    }
    chmodSync(file, 0o400);
    assert.deepEqual(loadOrCreateRootKey({ file }), key, 'read-only for the owner is fine');
  });

  it('refuses a file of the wrong size instead of replacing it', () => {
    for (const size of [0, 31, 33, 64]) {
      const file = freshPath();
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, randomBytes(size), { mode: 0o600 });
      assert.throws(() => loadOrCreateRootKey({ file }), /holds \d+ bytes, expected 32/);
      assert.equal(statSync(file).size, size, 'left untouched');
    }
  });

  it('refuses a directory in place of the file', () => {
    const file = freshPath();
    mkdirSync(file, { recursive: true, mode: 0o700 });
    assert.throws(() => loadOrCreateRootKey({ file }), /not a regular file|EISDIR/);
  });

  it('processes racing to create the file all end up with the one key on disk', async () => {
    const file = freshPath();
    const module = fileURLToPath(new URL('./root-key.ts', import.meta.url));
    const script = `import { loadOrCreateRootKey } from ${JSON.stringify(module)};
      process.stdout.write(loadOrCreateRootKey({ file: ${JSON.stringify(file)} }).toString('hex'));`;
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const results = await Promise.all(Array.from({ length: 6 }, run));
    const onDisk = readFileSync(file).toString('hex');
    for (const { stdout } of results) assert.equal(stdout, onDisk);
    assert.deepEqual(readdirSync(join(file, '..')), ['root.key']);
  });
});

describe('loadOrCreateRootKey from an operator-supplied value', () => {
  const key = randomBytes(32);

  it('accepts 64 hex characters, base64 and base64url, with surrounding whitespace', () => {
    const file = freshPath();
    for (const env of [
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      key.toString('base64'),
      key.toString('base64').replace(/=$/, ''),
      key.toString('base64url'),
      `  ${key.toString('hex')}\n`,
    ]) {
      assert.deepEqual(loadOrCreateRootKey({ file, env }), key, env);
    }
    assert.equal(existsSync(file), false, 'a supplied key never creates the file');
  });

  it('takes precedence over an existing file', () => {
    const file = freshPath();
    loadOrCreateRootKey({ file });
    assert.deepEqual(loadOrCreateRootKey({ file, env: key.toString('hex') }), key);
  });

  it('refuses values that are not exactly 32 bytes, without echoing them', () => {
    const file = freshPath();
    const bad = ['', 'abc', key.toString('hex').slice(2), key.toString('hex') + '00', randomBytes(33).toString('base64'), randomBytes(31).toString('base64'), 'z'.repeat(64)];
    for (const env of bad) {
      assert.throws(
        () => loadOrCreateRootKey({ file, env }),
        (err: Error) => /root key value/.test(err.message) && (env.length < 3 || !err.message.includes(env)),
        JSON.stringify(env),
      );
    }
    assert.equal(existsSync(file), false);
  });
});
