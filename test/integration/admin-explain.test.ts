/**
 * The policy simulator over the signed admin API (GET /_meridian/explain), which the console's IAM
 * page uses: the same decision and explanation as `meridian explain`, for callers allowed
 * iam:SimulatePrincipalPolicy on the simulated principal of their own account.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { iamClient, s3Client } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { signedFetch } from './signed-fetch.js';

let m: MeridianProcess;
let alice: { accessKeyId: string; secretAccessKey: string };
const aliceArn = 'arn:aws:iam::000000000000:user/alice';

before(async () => {
  m = await startMeridianProcess({ tls: false });
  await s3Client(m).send(new CreateBucketCommand({ Bucket: 'sim-bucket' }));
  const iam = iamClient(m);
  await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'alice',
      PolicyName: 'read-only',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'ReadObjects', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::sim-bucket/*' }] }),
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
  alice = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
});

after(async () => {
  await m?.stop();
});

const q = (p: Record<string, string | string[]>) =>
  Object.entries(p)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
    .join('&');

test('a denied request: ImplicitDeny with AWS reason phrase and the explanation text', async () => {
  const r = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:PutObject', resource: 'arn:aws:s3:::sim-bucket/k' }) });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { decision: { outcome: string; reason?: string }; text: string; request: { action: string } };
  assert.equal(body.decision.outcome, 'ImplicitDeny');
  assert.equal(body.request.action, 's3:PutObject');
  assert.match(body.text, /no identity-based policy allows the s3:PutObject action/);
});

test('an allowed request names the deciding statement; context values are passed through', async () => {
  const r = await signedFetch(m, 'GET', '/_meridian/explain', {
    query: q({ principal: aliceArn, action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k', context: ['aws:SourceIp=127.0.0.1'] }),
  });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { decision: { outcome: string; statements: { sid?: string }[] }; text: string };
  assert.equal(body.decision.outcome, 'Allow');
  assert.ok(body.decision.statements.some((s) => s.sid === 'ReadObjects'));
  assert.match(body.text, /ReadObjects/);
});

test('a caller without iam:SimulatePrincipalPolicy is denied with AWS message; unsigned requests are refused', async () => {
  const asAlice = { ...m, ...alice };
  const r = await signedFetch(asAlice, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k' }) });
  assert.equal(r.status, 403, r.text);
  const body = JSON.parse(r.text) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'AccessDenied');
  assert.match(body.error.message, /is not authorized to perform: iam:SimulatePrincipalPolicy on resource: arn:aws:iam::000000000000:user\/alice/);
  const anon = await signedFetch(m, 'GET', '/_meridian/explain', { anonymous: true, query: q({ principal: aliceArn, action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k' }) });
  assert.equal(anon.status, 403);
});

test('bad input: other accounts, unknown principals and missing parameters are clear 4xx errors', async () => {
  const other = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: 'arn:aws:iam::111122223333:user/bob', action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k' }) });
  assert.equal(other.status, 403);
  assert.match(other.text, /own account/);
  const unknown = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: 'arn:aws:iam::000000000000:user/nobody', action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k' }) });
  assert.equal(unknown.status, 400);
  assert.match(unknown.text, /does not exist/);
  const missing = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:GetObject' }) });
  assert.equal(missing.status, 400);
  assert.match(missing.text, /resource/);
  const badContext = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:GetObject', resource: 'arn:aws:s3:::sim-bucket/k', context: 'novalue' }) });
  assert.equal(badContext.status, 400);
});

test('s3:CreateBucket is simulated for a bucket that does not exist yet (only identity policies decide)', async () => {
  const r = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:CreateBucket', resource: 'arn:aws:s3:::not-yet-a-bucket' }) });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { decision: { outcome: string }; text: string };
  assert.equal(body.decision.outcome, 'ImplicitDeny');
  assert.match(body.text, /no identity-based policy allows the s3:CreateBucket action/);
  const getObject = await signedFetch(m, 'GET', '/_meridian/explain', { query: q({ principal: aliceArn, action: 's3:GetObject', resource: 'arn:aws:s3:::not-yet-a-bucket/k' }) });
  assert.equal(getObject.status, 400);
  assert.match(getObject.text, /bucket not-yet-a-bucket does not exist/);
});
