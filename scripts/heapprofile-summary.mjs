#!/usr/bin/env node
// Summarises a sampling heap profile (.heapprofile JSON): bytes allocated by function (self) and by
// call path ending there. Usage: heapprofile-summary.mjs FILE [--per N] [--top N]
import { readFileSync } from 'node:fs';
const [file, ...rest] = process.argv.slice(2);
const opt = (n, d) => { const i = rest.indexOf(n); return i >= 0 ? rest[i + 1] : d; };
const per = Number(opt('--per', '1'));
const top = Number(opt('--top', '40'));
const p = JSON.parse(readFileSync(file, 'utf8'));
const short = (u) => u.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm/').replace(/.*\/hotpath\//, '');
const self = new Map();
const stacks = new Map();
let total = 0;
const walk = (n, path) => {
  const label = `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}`;
  const here = [...path, label];
  if (n.selfSize > 0) {
    total += n.selfSize;
    self.set(label, (self.get(label) ?? 0) + n.selfSize);
    const key = here.slice(-6).join(' < '.length ? ' > ' : '');
    stacks.set(key, (stacks.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, here);
};
walk(p.head, []);
const kb = (b) => `${(b / per / 1024).toFixed(1).padStart(8)} KiB/req`;
console.log(`total ${kb(total)}`);
for (const [k, b] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(kb(b), k);
console.log('--- paths (last 6 frames)');
for (const [k, b] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(kb(b), k);
