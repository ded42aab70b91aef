/**
 * The test-host harness: namespaces cabled to one switch reach each other and the root namespace at
 * their addresses; a cut link carries nothing until healed; teardown leaves nothing behind, also
 * when the test's process exits without it or is killed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { eventually } from './clients.js';
import { netnsUnavailable, TestNetwork } from './netns.js';
import { postgresUnavailable, startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';

const NETNS_TS = new URL('./netns.ts', import.meta.url).pathname;

/** A TCP server in a namespace that answers each line with "<host>:<line>". */
function startEcho(net: TestNetwork, host: string): Promise<ChildProcess> {
  const { address } = net.host(host);
  const script = `
    const s = require('node:net').createServer((c) => c.on('data', (d) => c.write(${JSON.stringify(host)} + ':' + d)));
    s.listen(7000, ${JSON.stringify(address)}, () => console.log('ready'));`;
  const child = net.spawn(host, process.execPath, ['-e', script]);
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`echo server in ${host} exited with ${code}`)));
  });
}

/** Send a line to addr:7000 from the root namespace; the answer, or the error (no answer within waitMs). */
function ask(address: string, line: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: address, port: 7000 });
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer from ${address} within ${waitMs} ms`));
    }, waitMs);
    c.once('connect', () => c.write(line));
    c.once('data', (d) => {
      clearTimeout(timer);
      c.end();
      resolve(d.toString());
    });
    c.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const unavailable = netnsUnavailable();

describe('test hosts in network namespaces', { skip: unavailable }, () => {
  let net: TestNetwork;

  before(async () => {
    net = await TestNetwork.create(['alpha', 'beta']);
  });

  after(async () => {
    await net?.destroy();
  });

  it('each host has its own address on a private /24, and lo up', async () => {
    assert.match(net.subnet, /^10\.213\.\d{1,3}$/);
    assert.notEqual(net.host('alpha').address, net.host('beta').address);
    const addrs = await net.run('alpha', 'ip', ['-4', '-o', 'addr', 'show']);
    assert.match(addrs.stdout, /lo\s+inet 127\.0\.0\.1\/8/);
    assert.match(addrs.stdout, new RegExp(`eth0\\s+inet ${net.host('alpha').address.replace(/\./g, '\\.')}/24`));
    assert.doesNotMatch(addrs.stdout, new RegExp(net.host('beta').address.replace(/\./g, '\\.')));
  });

  it('the root namespace and the other hosts reach a server in a host at its address', async () => {
    await startEcho(net, 'alpha');
    assert.equal(await ask(net.host('alpha').address, 'from root'), 'alpha:from root');
    const fromBeta = await net.run('beta', process.execPath, [
      '-e',
      `const c = require('node:net').connect(7000, ${JSON.stringify(net.host('alpha').address)}, () => c.write('from beta'));
       c.on('data', (d) => { process.stdout.write(d); c.end(); });`,
    ]);
    assert.equal(fromBeta.code, 0, fromBeta.stderr);
    assert.equal(fromBeta.stdout, 'alpha:from beta');
  });

  it('a cut link carries nothing until it is healed', async () => {
    await startEcho(net, 'beta');
    const beta = net.host('beta').address;
    assert.equal(await ask(beta, 'before'), 'beta:before');
    net.cut('beta');
    assert.equal(net.linked('beta'), false);
    await assert.rejects(ask(beta, 'during'), /no answer|EHOSTUNREACH|ENETUNREACH/);
    // The other host is not affected.
    assert.equal(await ask(net.host('alpha').address, 'still'), 'alpha:still');
    net.heal('beta');
    assert.equal(net.linked('beta'), true);
    assert.equal(await eventually(() => ask(beta, 'after'), 30_000, 200), 'beta:after');
  });

  it('a name set in a host\'s hosts file resolves inside that host only', async () => {
    net.setHostsFile('alpha', { 'peer.meridian.test': net.host('beta').address });
    const resolve = (host: string) =>
      net.run(host, process.execPath, ['-e', `require('node:dns').lookup('peer.meridian.test', (e, a) => console.log(e ? e.code : a))`]);
    assert.equal((await resolve('alpha')).stdout.trim(), net.host('beta').address);
    assert.notEqual((await resolve('beta')).stdout.trim(), net.host('beta').address);
  });
});

describe('test-host teardown', { skip: unavailable }, () => {
  it('destroy() stops the processes inside and removes namespaces, the root link and hosts files', async () => {
    const net = await TestNetwork.create(['gamma']);
    const echo = await startEcho(net, 'gamma');
    net.setHostsFile('gamma', { 'x.meridian.test': net.rootAddress });
    const exited = new Promise((r) => echo.once('exit', r));
    await net.destroy();
    await exited;
    assert.deepEqual(net.existingNamespaces(), []);
    assert.equal(net.rootLinkExists(), false);
    assert.equal(existsSync(`/etc/netns/${net.host('gamma').ns}`), false);
  });

  /** Run a script that builds a network, prints its namespaces and the echo's pid, then does `then`. */
  async function orphanRun(then: string): Promise<{ child: ChildProcess; namespaces: string[]; pid: number; out: Promise<number | null> }> {
    const script = `
      import { TestNetwork } from ${JSON.stringify(NETNS_TS)};
      const net = await TestNetwork.create(['delta']);
      const echo = net.spawn('delta', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
      console.log(JSON.stringify({ namespaces: net.existingNamespaces(), pid: echo.pid }));
      ${then}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const out = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const first = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`the script exited with ${code}: ${stderr}`)));
    });
    const { namespaces, pid } = JSON.parse(first) as { namespaces: string[]; pid: number };
    assert.equal(namespaces.length, 2);
    return { child, namespaces, pid, out };
  }

  /** No such process, or a zombie (dead, waiting for its new parent to reap it). */
  const gone = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return true;
    }
  };

  it('a process that exits without destroy() still tears its network down', async () => {
    const run = await orphanRun(`process.exitCode = 3; setTimeout(() => { throw new Error('a failing test'); }, 10);`);
    assert.notEqual(await run.out, 0);
    for (const ns of run.namespaces) assert.equal(existsSync(`/run/netns/${ns}`), false, `${ns} removed`);
    await eventually(async () => (gone(run.pid) ? true : undefined), 10_000);
  });

  it('what a killed run left behind is swept by the next run', async () => {
    const run = await orphanRun('setInterval(() => {}, 1000);');
    run.child.kill('SIGKILL');
    await run.out;
    for (const ns of run.namespaces) assert.equal(existsSync(`/run/netns/${ns}`), true, `${ns} left behind by SIGKILL`);
    const next = await TestNetwork.create(['epsilon']);
    try {
      for (const ns of run.namespaces) assert.equal(existsSync(`/run/netns/${ns}`), false, `${ns} swept`);
      await eventually(async () => (gone(run.pid) ? true : undefined), 10_000);
    } finally {
      await next.destroy();
    }
  });
});

describe('a PostgreSQL inside a test host', { skip: unavailable ?? postgresUnavailable() }, () => {
  it('runs inside the host: its 127.0.0.1 port answers there, not in the root namespace; its unix socket reaches it from anywhere', async () => {
    const net = await TestNetwork.create(['pghost']);
    let pg: ThrowawayPostgres | undefined;
    try {
      pg = await startThrowawayPostgres({ launcher: net.launcher('pghost') });
      // Its processes are inside the host's namespace...
      const pids = spawnSync('ip', ['netns', 'pids', net.host('pghost').ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
      const names = pids.map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim());
      assert.ok(names.includes('postgres'), `the server runs inside the host (there: ${names.join(', ')})`);
      // ... so its 127.0.0.1 port answers inside the host, and not in the root namespace.
      const probe = `require('node:net').connect(${pg.port}, '127.0.0.1').on('connect', () => { console.log('open'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
      assert.equal((await net.run('pghost', process.execPath, ['-e', probe])).stdout.trim(), 'open');
      const fromRoot = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).stdout.trim();
      assert.equal(fromRoot, 'ECONNREFUSED');
      // The unix socket reaches it from anywhere (setup with psql works from the root namespace).
      assert.equal((await pg.psql('SELECT 40 + 2')).trim(), '42');
    } finally {
      await pg?.destroy();
      await net.destroy();
    }
  });
});
