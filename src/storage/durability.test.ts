/**
 * Crash test: a child process writes versions and blobs and acknowledges each one after its promise
 * resolved; it is SIGKILLed at a random moment. Every acknowledged version must then be present with
 * intact bytes, and no version may exist without its outbox task (they commit together).
 *
 * SIGKILL loses the process, not the OS page cache, so this checks ordering and atomicity (nothing
 * acknowledged before its commit, no torn state); power-loss durability rests on the fsyncs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createFsBlobStore, openRegionMetadataStore } from './index.js';

const SCRIPT = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Ack {
  key: string;
  versionId: string;
  sha256: string;
  size: number;
}

/** Run the writer until `killAfterMs` after its first acknowledgement, then SIGKILL it. */
function runAndKill(dir: string, prefix: string, killAfterMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dir, prefix], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a partial line is not an acknowledgement
      for (const line of lines) {
        const [tag, key, versionId, sha256, size] = line.split(' ');
        if (tag !== 'ACK') continue;
        acks.push({ key: key!, versionId: versionId!, sha256: sha256!, size: Number(size) });
      }
      timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (code ${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-crash-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('durability under SIGKILL', () => {
  it('every acknowledged version survives with intact bytes, across repeated crashes', async () => {
    const acks: Ack[] = [];
    for (let round = 1; round <= 3; round++) {
      const got = await runAndKill(dir, `r${round}`, 150 + Math.floor(Math.random() * 600));
      assert.ok(got.length > 0, `round ${round} acknowledged nothing`);
      acks.push(...got);
    }

    const store = openRegionMetadataStore(join(dir, 'region.db'), 'us-east-1');
    const blobs = createFsBlobStore(join(dir, 'blobs'), { inlineThreshold: 16 * 1024, orphanGraceMs: 0 });
    try {
      assert.equal(store.connection.db.pragma('integrity_check', { simple: true }), 'ok');
      let files = 0;
      for (const a of acks) {
        const v = await store.getObjectVersion('crash', a.key, a.versionId);
        assert.ok(v, `acknowledged ${a.key} is missing`);
        assert.equal(v.size, a.size);
        if (v.parts[0]!.blob.kind === 'file') files++;
        const bytes = await readAll(blobs.openRead(v.parts[0]!.blob));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), a.sha256, `bytes of ${a.key} differ`);
      }
      assert.ok(files > 0, 'some blobs went to files');

      // Versions and tasks committed together: exactly one task per stored version.
      const versions = await store.listVersions('crash', { limit: 1_000_000 });
      assert.ok(versions.length >= acks.length);
      assert.equal(await store.countOutboxTasks('crash'), versions.length);

      // Blob files finished but never committed are orphans; sweeping them keeps every live blob.
      await blobs.sweepOrphans((id) => store.isBlobReferenced(id));
      for (const v of versions) await readAll(blobs.openRead(v.parts[0]!.blob));
    } finally {
      await store.close();
    }
  });
});
