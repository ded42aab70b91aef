#!/usr/bin/env node
// Summarises a .cpuprofile (node --cpu-prof): self time by function and by file, and total (inclusive)
// time of the functions named with --total. Usage: cpuprofile-summary.mjs FILE [--top N] [--per N] [--total a,b]
import { readFileSync } from 'node:fs';
const [file, ...rest] = process.argv.slice(2);
const opt = (n, d) => { const i = rest.indexOf(n); return i >= 0 ? rest[i + 1] : d; };
const top = Number(opt('--top', '40'));
const totals = (opt('--total', '') || '').split(',').filter(Boolean);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// --window FILE: only the samples inside the measured window that request-cost.ts wrote (per = its request count).
const windowFile = opt('--window', '');
let from = -Infinity, to = Infinity, per = Number(opt('--per', '0'));
if (windowFile) {
  const [, a, b, count] = readFileSync(windowFile, 'utf8').trim().split('\n').at(-1).split(' ');
  from = Number(a); to = Number(b); per = Number(count);
}
const dt = new Map();
let ts = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  ts += p.timeDeltas[i] ?? 0;
  if (ts < from || ts > to) continue;
  dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const short = (u) => u.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm/').replace(/.*\/hotpath\//, '');
const label = (n) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const self = new Map(), files = new Map();
let total = 0, idle = 0;
for (const [id, t] of dt) {
  const n = byId.get(id);
  total += t;
  if (n.callFrame.functionName === '(idle)') { idle += t; continue; }
  self.set(label(n), (self.get(label(n)) ?? 0) + t);
  const f = short(n.callFrame.url) || n.callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + t);
}
const busy = total - idle;
const fmt = (t) => `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / busy).toFixed(1).padStart(5)}%` + (per ? ` ${(t / per).toFixed(1).padStart(7)} µs/req` : '');
console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms`);
console.log('--- self time by function');
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(fmt(t), k);
console.log('--- self time by file');
for (const [k, t] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(fmt(t), k);
if (totals.length) {
  console.log('--- inclusive time (each sample counted once per name)');
  const inc = new Map();
  for (const [id, t] of dt) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      for (const name of totals) if (!seen.has(name) && (n.callFrame.functionName === name || label(n).includes(name))) { seen.add(name); inc.set(name, (inc.get(name) ?? 0) + t); }
    }
  }
  for (const name of totals) console.log(fmt(inc.get(name) ?? 0), name);
}
// --tree PCT: the call tree (inclusive time), nodes above PCT % of busy time.
const treePct = Number(opt('--tree', '0'));
if (treePct > 0) {
  console.log('--- call tree (inclusive)');
  const incl = new Map();
  const sum = (id) => {
    const n = byId.get(id);
    let t = dt.get(id) ?? 0;
    for (const c of n.children ?? []) t += sum(c);
    incl.set(id, t);
    return t;
  };
  sum(p.nodes[0].id);
  const walk = (id, depth) => {
    const n = byId.get(id);
    const t = incl.get(id);
    if (t < (busy * treePct) / 100 || n.callFrame.functionName === '(idle)') return;
    console.log(fmt(t), ' '.repeat(depth) + label(n), `self ${((dt.get(id) ?? 0) / 1000).toFixed(0)}`);
    for (const c of [...(n.children ?? [])].sort((a, b) => incl.get(b) - incl.get(a))) walk(c, depth + 1);
  };
  walk(p.nodes[0].id, 0);
}
// --callers NAME: where the self time of functions called NAME comes from (3 frames up).
const callersOf = opt('--callers', '');
if (callersOf) {
  console.log(`--- callers of ${callersOf}`);
  const by = new Map();
  for (const [id, t] of dt) {
    const n = byId.get(id);
    if (n.callFrame.functionName !== callersOf) continue;
    const chain = [];
    for (let cur = parent.get(id); cur !== undefined && chain.length < 3; cur = parent.get(cur)) chain.push(label(byId.get(cur)));
    const k = chain.join(' < ');
    by.set(k, (by.get(k) ?? 0) + t);
  }
  for (const [k, t] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(fmt(t), k);
}
// --components: busy time by component. Each sample goes to the first frame, leaf upwards, that
// matches a component below (natives and node internals not listed are skipped on the way up).
if (rest.includes('--components')) {
  const COMPONENTS = [
    ['garbage collection', (u, f) => f === '(garbage collector)'],
    ['group commit (SQLite writes, commit, fsync)', (u) => u.includes('sqlite/group-commit') || u.includes('sqlite/region-objects') && false],
    ['SQLite reads: access key', (u) => u.includes('sqlite/iam-store') || u.includes('iam/identity')],
    ['SQLite reads: bucket, configs, object', (u) => u.includes('src/storage/sqlite/')],
    ['SigV4 verification', (u) => u.includes('src/server/auth/') && !u.includes('payload')],
    ['payload verification (hashes)', (u) => u.includes('auth/payload')],
    ['policy evaluation', (u) => u.includes('src/policy/') || u.includes('iam/authorizer') || u.includes('s3/s3-authorize') || u.includes('s3/condition-keys') || u.includes('s3/iam-actions') || u.includes('s3/acl')],
    ['object crypto (keys, AES-GCM)', (u) => u.includes('src/crypto/') || u.includes('s3/sse') || u.includes('common/random')],
    ['blob files', (u) => u.includes('storage/fs/') || u === 'node:fs' || u.startsWith('node:internal/fs')],
    ['HTTP and sockets', (u) => u.startsWith('node:_http') || u === 'node:net' || u.includes('stream_base_commons') || u.includes('server/http-adapter') || u.includes('server/http-limits')],
    ['stream machinery', (u) => u.startsWith('node:internal/streams') || u === 'node:stream' || u.includes('request-body')],
    ['S3 service and handlers', (u) => u.includes('src/services/')],
    ['request pipeline', (u) => u.includes('src/server/')],
    ['logging', (u) => u.includes('pino') || u.includes('sonic-boom')],
    ['bench driver (not server)', (u) => u.includes('scripts/') || u.includes('bench/')],
  ];
  const comp = new Map();
  for (const [id, t] of dt) {
    let name = 'other (event loop, promises, natives)';
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      const hit = COMPONENTS.find(([, test]) => test(n.callFrame.url, n.callFrame.functionName));
      if (hit) { name = hit[0]; break; }
    }
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    comp.set(name, (comp.get(name) ?? 0) + t);
  }
  console.log('--- busy time by component');
  // --scale US: also each component's share of US (e.g. the main thread's CPU per request from /proc).
  const scale = Number(opt('--scale', '0'));
  const serverBusy = [...comp].filter(([k]) => !k.startsWith('bench driver')).reduce((a, [, t]) => a + t, 0);
  for (const [k, t] of [...comp].sort((a, b) => b[1] - a[1])) {
    console.log(fmt(t), scale && !k.startsWith('bench driver') ? `${((t / serverBusy) * scale).toFixed(0).padStart(5)} µs` : '', k);
  }
}
