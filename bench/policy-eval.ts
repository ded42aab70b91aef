/**
 * `npm run bench:policy [-- --quick|--smoke] [--json]`: the cost of policy evaluation per request,
 * which sits on every request's path. Measured in-process, in the same run as references every
 * request pays anyway: a bare function call, the SHA-256 of a 4 KiB body (the payload hash of a 4 KiB
 * PUT) and a SigV4 signature of one request (what verifying its Authorization header costs).
 *
 * Cases:
 *  - engine: policy/ evaluate() for a typical S3 request by an IAM user: an identity policy of 10
 *    statements (wildcards, policy variables, conditions) and a 2-statement bucket policy, with the
 *    request's condition keys built afresh each time, as the server does;
 *  - engine, 50 statements: the same with a 50-statement identity policy (how it scales);
 *  - authorizer: Authorizer.decide() on a real SQLite IAM store: fetching the user, its inline and
 *    attached policies and its groups, plus the evaluation (the whole per-request authorization).
 * Each figure is the median of several rounds; no timing is asserted anywhere.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, parsePolicy } from '../src/policy/index.js';
import type { AuthorizationRequest, EvaluationInput, NamedPolicy, Principal } from '../src/policy/types.js';
import { signRequest } from '../src/server/auth/sign.js';
import { Authorizer } from '../src/services/iam/authorizer.js';
import type { Caller } from '../src/services/caller.js';
import { openGlobalStores } from '../src/storage/index.js';

const ACCOUNT = '000000000000';

/** Ten statements of the kinds real identity policies hold. */
function identityStatements(extra = 0): object[] {
  const base: object[] = [
    { Sid: 'ListOwnHome', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::data-*', Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*', 'shared/*'] } } },
    { Sid: 'OwnHome', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::data-lake/home/${aws:username}/*' },
    { Sid: 'KmsViaS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: `arn:aws:kms:us-east-1:${ACCOUNT}:key/*`, Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } },
    { Sid: 'NoBucketDeletes', Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' },
    { Sid: 'OfficeOnly', Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] }, Bool: { 'aws:ViaAWSService': 'false' } } },
    { Sid: 'SharedRead', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: ['arn:aws:s3:::shared-*/public/*', 'arn:aws:s3:::data-lake/shared/*'] },
    { Sid: 'SelfService', Effect: 'Allow', Action: ['iam:GetUser', 'iam:*AccessKey*'], Resource: `arn:aws:iam::${ACCOUNT}:user/\${aws:username}` },
    { Sid: 'TlsOnly', Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'AssumeReaders', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/reader-*` },
    { Sid: 'TeamTagged', Effect: 'Allow', Action: 's3:GetObjectTagging', Resource: 'arn:aws:s3:::data-lake/*', Condition: { StringEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } },
  ];
  const more: object[] = [];
  for (let i = 0; i < extra; i++) {
    more.push({ Sid: `Project${i}`, Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::project-${i}-*/*`, Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } });
  }
  return [...base, ...more];
}

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const BUCKET_POLICY = doc([
  { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::data-lake', 'arn:aws:s3:::data-lake/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3:*', Resource: ['arn:aws:s3:::data-lake', 'arn:aws:s3:::data-lake/*'] },
]);

const alice: Principal = { type: 'User', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: 'AIDAALICEALICEALICEA', username: 'alice', tags: { team: 'blue' } };
const RESOURCE = 'arn:aws:s3:::data-lake/home/alice/2026/report.csv';

let lastIso = { ms: -1, iso: '' };
/** The condition keys of a GetObject request as the server assembles them (global + S3 keys; the time formatted once per ms, as the Authorizer does). */
function requestContext(): AuthorizationRequest['context'] {
  const now = Date.now();
  if (lastIso.ms !== now) lastIso = { ms: now, iso: new Date(now).toISOString() };
  return {
    'aws:securetransport': 'true',
    'aws:currenttime': lastIso.iso,
    'aws:epochtime': String(Math.floor(now / 1000)),
    'aws:sourceip': '10.1.2.3',
    'aws:viaawsservice': 'false',
    'aws:requestedregion': 'us-east-1',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
    's3:authtype': 'REST-HEADER',
    's3:resourceaccount': ACCOUNT,
    'aws:resourceaccount': ACCOUNT,
  };
}

interface Measured {
  id: string;
  label: string;
  /** Median over rounds of process CPU time per call (the machine is shared: wall time waits for other processes). */
  nsPerOp: number;
  /** Median wall-clock time per call, for reference. */
  wallNsPerOp: number;
  opsPerRound: number;
}

type AnyCase = { id: string; label: string; run: () => unknown; async?: boolean };

let sink: unknown;

async function runN(c: AnyCase, n: number): Promise<{ cpuNs: number; wallNs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (c.async) for (let i = 0; i < n; i++) sink = await (c.run() as Promise<unknown>);
  else for (let i = 0; i < n; i++) sink = c.run();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Calibrate each case to about `roundMs` per round, then run the rounds interleaved (case A, B, C,
 * A, B, C, ...) so load from outside falls on every case alike.
 */
async function measureAll(cases: AnyCase[], rounds: number, roundMs: number, log: (s: string) => void): Promise<Measured[]> {
  const counts: number[] = [];
  for (const c of cases) {
    let n = 1;
    for (;;) {
      const { wallNs } = await runN(c, n);
      if (wallNs / 1e6 >= roundMs / 4) {
        counts.push(Math.max(1, Math.ceil((n * roundMs * 1e6) / wallNs)));
        break;
      }
      n *= 4;
    }
  }
  const cpu: number[][] = cases.map(() => []);
  const wall: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    for (let i = 0; i < cases.length; i++) {
      const { cpuNs, wallNs } = await runN(cases[i]!, counts[i]!);
      cpu[i]!.push(cpuNs / counts[i]!);
      wall[i]!.push(wallNs / counts[i]!);
    }
  }
  return cases.map((c, i) => ({ id: c.id, label: c.label, nsPerOp: median(cpu[i]!), wallNsPerOp: median(wall[i]!), opsPerRound: counts[i]! }));
}

function engineInput(statements: object[]): () => EvaluationInput {
  const identity: NamedPolicy[] = [{ name: 'inline policy work of user alice', policy: parsePolicy(doc(statements), 'identity') }];
  const resourcePolicy: NamedPolicy = { name: 'bucket policy of data-lake', policy: parsePolicy(BUCKET_POLICY, 'resource') };
  return () => ({
    request: { principal: alice, action: 's3:GetObject', resource: RESOURCE, resourceAccount: ACCOUNT, context: requestContext() },
    identityPolicies: identity,
    resourcePolicy,
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const smoke = argv.includes('--smoke');
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const rounds = smoke ? 3 : quick ? 5 : 11;
  const roundMs = smoke ? 5 : quick ? 100 : 300;
  const log = (s: string) => process.stderr.write(s + '\n');

  const body4k = Buffer.alloc(4096, 7);
  const creds = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY' };
  const url = new URL('http://127.0.0.1:9000/data-lake/home/alice/2026/report.csv');
  const noop = [(x: unknown) => x][0]!;
  const input10 = engineInput(identityStatements());
  const input50 = engineInput(identityStatements(40));

  // Sanity: the typical request is allowed by OwnHome, and each case computes what it claims.
  const check = evaluate(input10());
  if (check.outcome !== 'Allow' || check.statements[0]?.sid !== 'OwnHome') throw new Error(`unexpected decision: ${JSON.stringify(check)}`);

  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-policy-'));
  const stores = openGlobalStores(join(dir, 'global.db'));
  try {
    await stores.iam.createAccount({ accountId: ACCOUNT, name: 'bench', createdAt: 0 });
    await stores.iam.createUser({ accountId: ACCOUNT, userName: 'alice', userId: alice.userId!, path: '/', arn: alice.arn!, createdAt: 0, tags: [{ Key: 'team', Value: 'blue' }] });
    await stores.iam.putInlinePolicy(ACCOUNT, 'user', 'alice', 'work', doc(identityStatements()));
    await stores.iam.attachPolicy(ACCOUNT, 'user', 'alice', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');
    await stores.iam.createGroup({ accountId: ACCOUNT, groupName: 'analysts', groupId: 'AGPAANALYSTSANALYSTS', path: '/', arn: `arn:aws:iam::${ACCOUNT}:group/analysts`, createdAt: 0 });
    await stores.iam.addUserToGroup(ACCOUNT, 'analysts', 'alice');
    const authorizer = new Authorizer(stores.iam, { now: () => Date.now() });
    const caller: Caller = { principal: alice, secureTransport: true, sourceIp: '10.1.2.3', loopback: false, authType: 'REST-HEADER' };
    const resourcePolicy: NamedPolicy = { name: 'bucket policy of data-lake', policy: authorizer.parse(BUCKET_POLICY, 'resource') };
    const decideOnce = () =>
      authorizer.decide(caller, {
        action: 's3:GetObject',
        resource: RESOURCE,
        resourceAccount: ACCOUNT,
        context: { 'aws:requestedregion': 'us-east-1', 's3:signatureversion': 'AWS4-HMAC-SHA256', 's3:authtype': 'REST-HEADER' },
        resourcePolicy,
      });
    const full = await decideOnce();
    if (full.decision.outcome !== 'Allow') throw new Error('the authorizer case must be allowed');

    const cases: AnyCase[] = [
      { id: 'call', label: 'bare function call (floor)', run: () => noop(input10) },
      { id: 'sha256-4k', label: 'SHA-256 of a 4 KiB body (every 4 KiB PUT)', run: () => createHash('sha256').update(body4k).digest() },
      { id: 'sigv4', label: 'SigV4 signature of one request', run: () => signRequest({ method: 'GET', url, headers: {} }, creds, 'us-east-1', 's3') },
      { id: 'engine-10', label: 'policy evaluation, 10 + 2 statements', run: () => evaluate(input10()) },
      { id: 'engine-50', label: 'policy evaluation, 50 + 2 statements', run: () => evaluate(input50()) },
      { id: 'authorizer', label: 'authorizer: policies from SQLite + evaluation', run: decideOnce, async: true },
    ];
    const results = await measureAll(cases, rounds, roundMs, log);
    const by = (id: string) => results.find((r) => r.id === id)!.nsPerOp;
    const rows = results.map((r) => ({
      ...r,
      vsSha256_4k: r.nsPerOp / by('sha256-4k'),
      vsSigV4: r.nsPerOp / by('sigv4'),
    }));
    if (json) {
      process.stdout.write(JSON.stringify({ node: process.version, cpus: cpus().length, loadavg: loadavg(), rounds, roundMs, rows }, null, 2) + '\n');
      return;
    }
    const us = (ns: number) => (ns / 1000).toFixed(ns < 1000 ? 3 : 2);
    const pad = (s: string, n: number) => s.padEnd(n);
    const lines = [
      `Policy evaluation per request: CPU time per call, median of ${rounds} interleaved rounds (Node ${process.version}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs)`,
      '',
      `| ${pad('case', 50)} | ${'CPU µs/op'.padStart(9)} | ${'wall µs/op'.padStart(10)} | ${'× SHA-256 4 KiB'.padStart(15)} | ${'× SigV4 sign'.padStart(12)} |`,
      `|${'-'.repeat(52)}|${'-'.repeat(10)}:|${'-'.repeat(11)}:|${'-'.repeat(16)}:|${'-'.repeat(13)}:|`,
      ...rows.map(
        (r) =>
          `| ${pad(r.label, 50)} | ${us(r.nsPerOp).padStart(9)} | ${us(r.wallNsPerOp).padStart(10)} | ${r.vsSha256_4k.toFixed(2).padStart(15)} | ${r.vsSigV4.toFixed(2).padStart(12)} |`,
      ),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
    void sink;
  }
}

await main();
