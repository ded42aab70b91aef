/**
 * The web console end to end, in headless Debian Chromium against a real Meridian process: the
 * seed walkthrough done by a person in the browser — sign in, KMS keys and versioned buckets in
 * us-east-1 and us-east-2, the replication role made on the IAM page, the replication rule (with
 * S3's validation error shown in place first), an SSE-KMS upload that becomes COMPLETED with the
 * replica's key ARN shown, kms:Encrypt taken away and the next version FAILED with its reason and
 * the explanation, and a limited IAM user who gets AWS's AccessDenied and the policy evaluation.
 * What the console shows is checked against what the SDK reads for the same data. Screenshots of
 * every page at 1280×800 and 390 px go to test-results/console/ (git-ignored).
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { GetBucketReplicationCommand, GetBucketVersioningCommand, GetBucketLocationCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshots, SCREENSHOTS, type Browser } from '../support/browser.js';
import { eventually, iamClient, s3Client } from '../support/clients.js';
import { meridianCli } from '../support/meridian-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { permissionsPolicy, trustPolicy } from '../support/replication-documents.js';

const ROOT = new URL('../..', import.meta.url).pathname;

let m: MeridianProcess;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const n = Math.floor(Math.random() * 1e6);
const src = `console-src-${n}`;
const dest = `console-dest-${n}`;
const roleName = `s3-crr-console-${n}`;
let srcKeyArn = '';
let destKeyArn = '';
let roleArn = '';

before(async () => {
  // npm install/ci builds the console (prepare); a checkout edited since is rebuilt here.
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-console.mjs'), '--if-stale'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  m = await startMeridianProcess();
  browser = await launchBrowser();
  page = browser.page;
  // Generous: CI shares two cores with another test file (and a loaded machine is slower still).
  page.setDefaultTimeout(90_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A Content-Security-Policy violation or a failed asset shows here.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|403|404|409)/.test(msg.text())) pageErrors.push(msg.text());
  });
});

// The page as each step left it, for a failure's post-mortem.
afterEach(async (t) => {
  await page?.screenshot({ path: join(SCREENSHOTS, `last-${t.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
});

after(async () => {
  await browser?.close();
  await m?.stop();
});

const url = () => `${m.httpEndpoint}/_console/`;

function rawGet(target: string): Promise<{ status: number; body: string }> {
  const u = new URL(m.httpEndpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function fetchTls(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(path, m.httpsEndpoint);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: u.hostname, port: u.port, path: u.pathname, method, ca: readFileSync(m.certFile!) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function signIn(accessKeyId: string, secretAccessKey: string): Promise<void> {
  await page.getByLabel('Access key ID').fill(accessKeyId);
  await page.getByLabel('Secret access key').fill(secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('the console is served on the HTTP and HTTPS listeners: typed, cached, GET/HEAD only, nothing outside the build', async () => {
  const index = await fetch(url());
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(index.headers.get('content-security-policy') ?? '', /connect-src 'self'/);
  const html = await index.text();
  // Everything the page loads is its own: no CDN, no other origin.
  assert.doesNotMatch(html, /https?:\/\//);
  const script = /src="(\/_console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const entry = await fetch(new URL(script, m.httpEndpoint));
  assert.equal(entry.status, 200);
  assert.equal(entry.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(entry.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  // Raw request targets (fetch would normalise the dot segments away).
  for (const target of ['/_console/%2e%2e/global/root-credentials.json', '/_console/../global/root-credentials.json', '/_console/assets/..%2f..%2f..%2fpackage.json']) {
    const r = await rawGet(target);
    assert.equal(r.status, 404, target);
    assert.doesNotMatch(r.body, /secretAccessKey|"name": "meridian"/);
  }
  assert.equal((await fetch(url(), { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${m.httpEndpoint}/_console`, { redirect: 'manual' })).status, 308);

  // The JavaScript budget: every chunk the console can load, gzipped, under 300 KB.
  const assets = join(ROOT, 'console/dist/assets');
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const gz = js.reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
  console.log(`# console: ${js.length} JavaScript chunks, ${(gz / 1024).toFixed(1)} KiB gzipped in all; first view ${(gzipSync(await (await fetch(new URL(script, m.httpEndpoint))).arrayBuffer().then((b) => Buffer.from(b)), { level: 9 }).length / 1024).toFixed(1)} KiB`);
  assert.ok(gz < 300 * 1024, `${gz} bytes of gzipped JavaScript`);

  const tls = await fetchTls('/_console/');
  assert.equal(tls.status, 200);
  assert.match(tls.body, /<title>Meridian console<\/title>/);
  const tlsJs = await fetchTls(script, 'HEAD');
  assert.equal(tlsJs.status, 200);
  assert.equal(tlsJs.headers['content-type'], 'text/javascript; charset=utf-8');
});

test('sign in: a wrong secret shows STS error; the keys live in sessionStorage only', async () => {
  const started = Date.now();
  await page.goto(url());
  await page.getByLabel('Access key ID').waitFor();
  console.log(`# console: sign-in form visible ${Date.now() - started} ms after navigation (cold browser)`);
  await screenshots(page, '01-sign-in');
  await signIn(m.accessKeyId, 'not-the-secret');
  const error = page.getByRole('alert');
  await error.waitFor();
  assert.match(await error.innerText(), /SignatureDoesNotMatch/);
  await signIn(m.accessKeyId, m.secretAccessKey);
  await page.getByRole('heading', { name: 'Buckets', exact: true }).waitFor();
  assert.match(await page.locator('header .who').innerText(), /000000000000:root/);
  // (Evaluated in the page: a string, since this file is type-checked without the DOM library.)
  const storage = (await page.evaluate('({ session: JSON.stringify(sessionStorage), local: localStorage.length, cookies: document.cookie })')) as { session: string; local: number; cookies: string };
  assert.match(storage.session, new RegExp(m.accessKeyId));
  assert.equal(storage.local, 0);
  assert.equal(storage.cookies, '');
  // Keyboard: the first Tab reaches "Skip to content", which moves focus to the page's main area.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate('document.activeElement.id'), 'main');
  // A reload keeps the session (same tab); the first view after it is measured, not asserted.
  const t0 = Date.now();
  await page.reload();
  await page.getByRole('heading', { name: 'All buckets' }).waitFor();
  console.log(`# console: buckets page ${Date.now() - t0} ms after reload`);
});

async function createKey(region: string, alias: string): Promise<string> {
  await page.goto(`${url()}#/kms?region=${region}`);
  await page.getByText(`Create a key in ${region}`).click();
  await page.getByLabel('Description').fill(`console test key in ${region}`);
  await page.getByLabel('Alias (optional)').fill(alias);
  await page.getByRole('button', { name: 'Create key' }).click();
  const created = page.getByRole('status').filter({ hasText: 'Created arn:aws:kms' });
  await created.waitFor();
  const arn = /arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+/.exec(await created.innerText())![0];
  assert.ok(arn.startsWith(`arn:aws:kms:${region}:`));
  await page.getByRole('cell', { name: alias }).waitFor();
  return arn;
}

test('KMS keys in us-east-1 and us-east-2, created on the KMS page', async () => {
  srcKeyArn = await createKey('us-east-1', `alias/console-src-${n}`);
  destKeyArn = await createKey('us-east-2', `alias/console-dest-${n}`);
  // The key's page: state, rotation, aliases and the policy editor.
  await page.getByRole('link', { name: destKeyArn.split('/')[1]! }).click();
  await page.getByRole('heading', { name: `Key ${destKeyArn.split('/')[1]}` }).waitFor();
  await page.getByRole('button', { name: 'Enable rotation' }).click();
  await page.getByText('Rotation enabled.').waitFor();
  const policy = page.getByLabel('Key policy');
  await policy.waitFor();
  const original = await policy.inputValue();
  await policy.fill('{"Version": "2012-10-17", "Statement": [');
  await page.getByText(/Line 1, column \d+: This policy contains invalid Json/).waitFor();
  await policy.fill(original);
  await screenshots(page, '03-kms');
});

async function createBucket(name: string, region: string, keyArn: string): Promise<void> {
  await page.goto(`${url()}#/buckets`);
  await page.getByLabel('Bucket name').fill(name);
  await page.getByLabel('Bucket region').selectOption(region);
  await page.getByLabel('Default encryption').selectOption('aws:kms');
  await page.getByLabel('Default KMS key').fill(keyArn);
  assert.ok(await page.getByLabel('Enable versioning').isChecked());
  await page.getByRole('button', { name: 'Create bucket' }).click();
  await page.getByText(`Created ${name} in ${region}: versioning enabled, default encryption SSE-KMS with ${keyArn}.`).waitFor();
}

test('buckets in us-east-1 and us-east-2 with versioning and SSE-KMS defaults; the SDK sees the same', async () => {
  await createBucket(src, 'us-east-1', srcKeyArn);
  await createBucket(dest, 'us-east-2', destKeyArn);
  await page.getByLabel('Region', { exact: true }).selectOption('us-east-2');
  await page.getByRole('link', { name: dest, exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: src, exact: true }).count(), 0);
  await page.getByLabel('Region', { exact: true }).selectOption('');
  await screenshots(page, '02-buckets');
  const s3 = s3Client(m, 'us-east-2');
  assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: dest }))).LocationConstraint, 'us-east-2');
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: dest }))).Status, 'Enabled');

  // Settings: versioning, encryption, ownership, BPA, and the policy editor's errors in place.
  await page.getByRole('link', { name: `Settings of ${src}` }).click();
  await page.getByRole('heading', { name: `Settings of ${src}` }).waitFor();
  await page.locator('#card-versioning').locator('..').getByText('Enabled').waitFor();
  // Each card loads its own setting after it renders: wait for the values, not just the fields.
  await eventually(async () => ((await page.getByLabel('Encryption type').inputValue()) === 'aws:kms' ? true : undefined), 30_000);
  await eventually(async () => ((await page.getByLabel('KMS key', { exact: true }).inputValue()) === srcKeyArn ? true : undefined), 30_000);
  await eventually(async () => ((await page.getByLabel('BlockPublicPolicy').isChecked()) ? true : undefined), 30_000);
  const policy = page.getByLabel('Policy document');
  await policy.fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${src}/*` }] }));
  await page.getByText('Missing required field Principal').waitFor();
  await policy.fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${src}/*` }] }));
  await page.getByRole('button', { name: 'Save policy' }).click();
  // Block Public Access refuses a public policy: S3's error, in place under the editor.
  const refused = page.locator('.card', { has: page.getByRole('heading', { name: 'Bucket policy' }) }).getByRole('alert');
  await refused.waitFor();
  assert.match(await refused.innerText(), /AccessDenied \(HTTP 403\)[\s\S]*Access Denied/);
  await policy.fill('');
  await screenshots(page, '04-bucket-settings');
});

test('the replication role, made on the IAM page with the walkthrough policies', async () => {
  await page.goto(`${url()}#/iam/roles`);
  await page.getByLabel('Role name').fill(roleName);
  await page.getByLabel('Trust policy').fill(trustPolicy('s3.amazonaws.com'));
  const permissions = page.getByLabel('Permissions policy (optional inline policy)');
  await permissions.fill('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}');
  await page.getByText('Policy statement must contain resources.').waitFor();
  await page.getByLabel('Permissions policy name (optional)').fill('s3-crr-with-kms-role-permissions-policy');
  await permissions.fill(permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }));
  await page.getByRole('button', { name: 'Create role' }).click();
  const created = page.getByRole('status').filter({ hasText: 'Created arn:aws:iam' });
  await created.waitFor();
  roleArn = /arn:aws:iam::\d{12}:role\/\S+/.exec(await created.innerText())![0];
  assert.equal(roleArn, `arn:aws:iam::000000000000:role/${roleName}`);
  await page.getByRole('link', { name: roleName }).waitFor();
  await screenshots(page, '05-iam-roles');
});

test('the replication rule: S3 validation error in place, then the walkthrough rule saved; the SDK reads it back', async () => {
  await page.goto(`${url()}#/bucket/${src}/replication`);
  await page.getByRole('heading', { name: `Replication of ${src}` }).waitFor();
  await page.getByLabel('IAM role').fill(roleArn);
  await page.getByLabel('Rule 1 schema').selectOption('V1');
  await page.getByLabel('Rule 1 destination bucket').fill(dest);
  await page.getByLabel('Replicate SSE-KMS encrypted objects (rule 1)').check();
  await page.getByRole('button', { name: 'Save replication configuration' }).click();
  const rejected = page.getByRole('alert').filter({ hasText: 'S3 rejected the configuration' });
  await rejected.waitFor();
  assert.match(await rejected.innerText(), /InvalidRequest[\s\S]*ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present\./);
  await page.getByLabel('Rule 1 ReplicaKmsKeyID').fill(destKeyArn);
  await page.getByRole('button', { name: 'Save replication configuration' }).click();
  await page.getByText('Replication configuration saved.').waitFor();
  const stored = await s3Client(m).send(new GetBucketReplicationCommand({ Bucket: src }));
  const rule = stored.ReplicationConfiguration!.Rules![0]!;
  assert.equal(stored.ReplicationConfiguration!.Role, roleArn);
  assert.equal(rule.Prefix, '');
  assert.equal(rule.Destination!.Bucket, `arn:aws:s3:::${dest}`);
  assert.equal(rule.Destination!.EncryptionConfiguration!.ReplicaKmsKeyID, destKeyArn);
  assert.equal(rule.SourceSelectionCriteria!.SseKmsEncryptedObjects!.Status, 'Enabled');
});

/** Upload through the object browser's file picker, SSE-KMS under the source key. */
async function upload(name: string, body: Buffer): Promise<string> {
  await page.getByLabel('Server-side encryption').selectOption('aws:kms');
  await page.getByLabel('KMS key for upload').fill(srcKeyArn);
  await page.locator('#upload-files').setInputFiles({ name, mimeType: 'text/plain', buffer: body });
  const done = page.locator('ul.uploads li', { hasText: name }).filter({ hasText: 'uploaded (version' }).first();
  await done.waitFor();
  return /version (\S+)\)/.exec(await done.innerText())![1]!;
}

let firstVersion = '';

test('an SSE-KMS upload becomes COMPLETED, with the replica and its destination key ARN shown', async () => {
  await page.goto(`${url()}#/bucket/${src}/objects`);
  firstVersion = await upload('hello.txt', Buffer.from('hello, replicated world\n'));
  await page.getByRole('button', { name: 'hello.txt', exact: true }).click();
  const version = page.getByRole('article', { name: `version ${firstVersion}` });
  await version.getByTestId('replication-status').filter({ hasText: 'COMPLETED' }).waitFor();
  assert.equal(await version.getByTestId('kms-key-arn').innerText(), srcKeyArn);
  const replicaKey = version.getByTestId('replica-kms-key-arn');
  await replicaKey.waitFor();
  assert.equal(await replicaKey.innerText(), destKeyArn);
  assert.match(await version.getByTestId('replica').innerText(), /REPLICA/);
  // Download: a presigned GET the browser follows; the file is the object.
  const [download] = await Promise.all([page.waitForEvent('download'), version.getByRole('button', { name: 'Download' }).click()]);
  assert.equal(download.suggestedFilename(), 'hello.txt');
  assert.equal(readFileSync((await download.path())!, 'utf8'), 'hello, replicated world\n');
  // What the console shows is what the SDK reads.
  const head = await s3Client(m, 'us-east-2').send(new HeadObjectCommand({ Bucket: dest, Key: 'hello.txt', VersionId: firstVersion }));
  assert.equal(head.ReplicationStatus, 'REPLICA');
  assert.equal(head.SSEKMSKeyId, destKeyArn);

  // Multipart with progress (6 MiB: two parts) and drag and drop.
  const big = Buffer.alloc(6 * 1024 * 1024, 'm');
  await upload('big.bin', big);
  const progress = page.getByLabel('Upload of big.bin');
  assert.equal(await progress.getAttribute('value'), String(big.length));
  const drop = await page.evaluateHandle(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped'], 'dropped.txt', { type: 'text/plain' }));
    return dt;
  })()`);
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: drop });
  await page.locator('ul.uploads li', { hasText: 'dropped.txt' }).filter({ hasText: 'uploaded' }).waitFor();
  await page.getByRole('button', { name: 'big.bin', exact: true }).waitFor();
  await page.getByRole('button', { name: 'hello.txt', exact: true }).click();
  await screenshots(page, '06-objects');
  // The README's picture (docs/console.png is a copy): one screen, not the full page.
  await page.setViewportSize({ width: 1100, height: 720 });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SCREENSHOTS, 'readme.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('kms:Encrypt taken away on the IAM page: the next version is FAILED, with its reason and the explanation', async () => {
  await page.goto(`${url()}#/iam/roles/${roleName}`);
  await page.getByRole('button', { name: 's3-crr-with-kms-role-permissions-policy' }).click();
  const editor = page.getByLabel('Inline policy document');
  await editor.waitFor();
  await eventually(async () => ((await editor.inputValue()).includes('"kms:Encrypt"') ? true : undefined), 60_000);
  await editor.fill(permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }, { withoutKmsEncrypt: true }));
  await page.getByRole('button', { name: 'Save inline policy' }).click();
  await page.getByText('Saved inline policy s3-crr-with-kms-role-permissions-policy.').waitFor();
  const stored = await iamClient(m).send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 's3-crr-with-kms-role-permissions-policy' }));
  assert.doesNotMatch(decodeURIComponent(stored.PolicyDocument!), /"kms:Encrypt"/);

  await page.goto(`${url()}#/bucket/${src}/objects?key=hello.txt`);
  const second = await upload('hello.txt', Buffer.from('hello again\n'));
  const version = page.getByRole('article', { name: `version ${second}` });
  await version.getByTestId('replication-status').filter({ hasText: 'FAILED' }).waitFor();
  await version.getByRole('button', { name: 'Why?' }).click();
  const why = version.getByRole('region', { name: 'Replication explanation' });
  await why.getByTestId('failure-reason').waitFor();
  assert.equal(await why.getByTestId('failure-reason').innerText(), 'DstPutObjectNotPermitted');
  const text = await why.innerText();
  assert.match(text, /kms:Encrypt/);
  assert.match(text, new RegExp(`Fix: .*kms:Encrypt.*${destKeyArn.replace(/[/.]/g, '\\$&')}`));
  await why.getByText('Full explanation').click();
  await screenshots(page, '07-object-failed');
});

test('the replication dashboard: pending, failures by reason, lag over time; the live events view', async () => {
  await page.goto(`${url()}#/bucket/${src}/replication`);
  await page.getByTestId('failed-total').filter({ hasText: /^[1-9]/ }).waitFor();
  await page.getByRole('region', { name: 'Failures by reason' }).getByText('DstPutObjectNotPermitted').waitFor();
  // The same numbers `meridian replication status` prints.
  const cli = await meridianCli(m, ['replication', 'status', '--bucket', src, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const report = JSON.parse(cli.stdout) as { failed: { total: number; byReason: { reason: string; count: number }[] }; pending: { operations: number } };
  assert.equal(await page.getByTestId('failed-total').innerText(), String(report.failed.total));
  assert.deepEqual(report.failed.byReason.map((f) => [f.reason, f.count]), [['DstPutObjectNotPermitted', 1]]);
  // Give the role kms:Encrypt back and replicate more, so the lag chart has intervals with completions.
  await iamClient(m).send(
    new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 's3-crr-with-kms-role-permissions-policy', PolicyDocument: permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }) }),
  );
  const s3 = s3Client(m);
  for (let i = 0; i < 4; i++) {
    await s3.send(new PutObjectCommand({ Bucket: src, Key: `lag/${i}.txt`, Body: `object ${i}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: srcKeyArn }));
    await new Promise((r) => setTimeout(r, 3200));
  }
  await page.locator('figure.chart svg path.p99').first().waitFor();
  const chartLabel = await page.locator('figure.chart svg').first().getAttribute('aria-label');
  assert.match(chartLabel ?? '', /Replication lag of rule rule-1 to .*: latest interval: p50 \d/);
  await screenshots(page, '08-replication');

  // Live events: a failure as it happens, and its explanation one click away.
  await iamClient(m).send(
    new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 's3-crr-with-kms-role-permissions-policy', PolicyDocument: permissionsPolicy({ src, dest, srcKeyArn, destKeyArn }, { withoutKmsEncrypt: true }) }),
  );
  await page.goto(`${url()}#/events?bucket=${src}`);
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  await s3.send(new PutObjectCommand({ Bucket: src, Key: 'events/failing.txt', Body: 'will fail', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: srcKeyArn }));
  const row = page.getByRole('row', { name: /OperationFailedReplication/ }).first();
  await row.waitFor();
  assert.match(await row.innerText(), /events\/failing\.txt[\s\S]*DstPutObjectNotPermitted/);
  await row.getByRole('button', { name: 'Why?' }).click();
  await page.getByRole('region', { name: 'Replication explanation' }).getByText(/kms:Encrypt/).first().waitFor();
  await screenshots(page, '09-events');
});

test('object browser: prefixes, pages of a large listing forward and back, versions and delete markers', async () => {
  const s3 = s3Client(m);
  const keys = Array.from({ length: 120 }, (_, i) => `many/${String(i).padStart(3, '0')}.txt`);
  for (let i = 0; i < keys.length; i += 20) await Promise.all(keys.slice(i, i + 20).map((Key) => s3.send(new PutObjectCommand({ Bucket: src, Key, Body: Key }))));
  await page.goto(`${url()}#/bucket/${src}/objects`);
  await page.getByRole('button', { name: 'many/', exact: true }).click();
  await page.getByLabel('Per page').selectOption('50');
  const names = async () => (await page.getByRole('region', { name: 'Objects' }).locator('tbody td:first-child button').allInnerTexts()).filter((t) => t !== '↑ Up');
  // The first page of 100 may still be on screen while the page of 50 loads.
  await eventually(async () => ((await names()).length === 50 ? true : undefined), 60_000);
  assert.deepEqual(await names(), keys.slice(0, 50).map((k) => k.slice(5)));
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByRole('button', { name: '050.txt', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByRole('button', { name: '119.txt', exact: true }).waitFor();
  assert.equal((await names()).length, 20);
  assert.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled());
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.getByRole('button', { name: '050.txt', exact: true }).waitFor();
  assert.equal(await page.getByText('Page 2').count(), 1);

  // A delete marker, made in the detail panel, listed with the versions.
  await page.goto(`${url()}#/bucket/${src}/objects?key=big.bin`);
  await page.getByRole('button', { name: 'Add delete marker' }).click();
  await page.getByText('Delete marker added.').waitFor();
  await page.getByLabel('Show versions and delete markers').check();
  const marker = page.getByRole('region', { name: 'Objects' }).getByRole('row', { name: /big\.bin.*delete marker/ });
  await marker.waitFor();
  assert.match(await marker.innerText(), /latest/);
});

test('a limited IAM user: AWS AccessDenied in the console, with the policy evaluation one click away', async () => {
  await page.goto(`${url()}#/iam/users`);
  await page.getByLabel('New user name').fill('viewer');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('link', { name: 'viewer' }).click();
  await page.getByRole('button', { name: 'Create access key' }).click();
  const accessKeyId = await page.getByTestId('new-access-key-id').innerText();
  const secretAccessKey = await page.getByTestId('new-secret-access-key').innerText();
  await page.getByLabel('Inline policy name').fill('list-only');
  await page
    .getByLabel('Inline policy document')
    .fill(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'SeeBuckets', Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:GetBucketLocation'], Resource: '*' },
          { Sid: 'ExplainMyself', Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: 'arn:aws:iam::000000000000:user/${aws:username}' },
        ],
      }),
    );
  await page.getByRole('button', { name: 'Save inline policy' }).click();
  await page.getByText('Saved inline policy list-only.').waitFor();
  await screenshots(page, '10-iam-user');

  // The simulator, as root, for the viewer.
  await page.goto(`${url()}#/iam/simulator`);
  await page.getByLabel('Principal').fill('arn:aws:iam::000000000000:user/viewer');
  await page.getByLabel('Action').fill('s3:GetBucketLocation');
  await page.getByLabel('Resource').fill(`arn:aws:s3:::${src}`);
  await page.getByRole('button', { name: 'Simulate' }).click();
  await page.locator('.sim-result').getByText('Allow', { exact: true }).waitFor();
  assert.match(await page.locator('.sim-result pre').innerText(), /SeeBuckets/);
  await screenshots(page, '11-simulator');

  await page.goto(`${url()}#/buckets`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(accessKeyId, secretAccessKey);
  await page.getByRole('link', { name: src, exact: true }).waitFor();
  await page.getByLabel('Bucket name').fill(`viewer-${n}`);
  await page.getByRole('button', { name: 'Create bucket' }).click();
  const denied = page.getByRole('alert').filter({ hasText: 'AccessDenied' });
  await denied.waitFor();
  assert.match(
    await denied.innerText(),
    new RegExp(`User: arn:aws:iam::000000000000:user/viewer is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::viewer-${n} because no identity-based policy allows the s3:CreateBucket action`),
  );
  await denied.getByRole('button', { name: 'Why was this denied?' }).click();
  const evaluation = denied.getByLabel('Policy evaluation');
  await evaluation.waitFor();
  assert.match(await evaluation.innerText(), /ImplicitDeny|no identity-based policy allows/);
  await screenshots(page, '12-denied');
  // Objects of a bucket it may not list: the same, from S3's ListObjectsV2.
  await page.goto(`${url()}#/bucket/${src}/objects`);
  await page.getByRole('alert').filter({ hasText: /s3:ListBucket/ }).first().waitFor();
});

test('no page error, no Content-Security-Policy violation along the way', () => {
  assert.deepEqual(pageErrors, []);
});
