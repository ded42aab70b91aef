/**
 * ACLs grant access, as on AWS: with Object Ownership ObjectWriter or BucketOwnerPreferred, object
 * ACLs let their grantees read objects (and their ACLs), bucket ACLs let grantees list and write;
 * AllUsers is anyone, AuthenticatedUsers any signed caller, a canonical user an account (whose
 * users still need their own identity policy). Explicit denies win; BucketOwnerEnforced turns ACLs
 * off. Block Public Access refuses public ACLs (BlockPublicAcls) and ignores them (IgnorePublicAcls).
 * The ACL-enabled buckets here turn Block Public Access off first, as a user must on AWS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  HeadObjectCommand,
  type ObjectOwnership,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { createAccount, meridianOnDataDir } from '../support/meridian-cli.js';
import { eventually, iamClient, s3Client, type Credentials } from '../support/clients.js';
import { bucketName, rejects } from './helpers.js';
import { signedFetch } from './signed-fetch.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

let m: MeridianProcess;
let s3: S3Client;
let b: Credentials & { accountId: string };
let s3b: S3Client;
let bCanonicalId: string;

before(async () => {
  m = await startMeridianProcess({ env: { MERIDIAN_LOG_LEVEL: 'debug' }, tls: false });
  s3 = s3Client(m);
  b = await createAccount(m.dataDir, 'acl-b');
  s3b = s3Client(m, 'us-east-1', b);
  bCanonicalId = (await s3b.send(new ListBucketsCommand({}))).Owner!.ID!;
});
after(async () => {
  await m?.stop();
});

/** A bucket of account A with ACLs enabled and Block Public Access off. */
async function aclBucket(ownership: ObjectOwnership = 'ObjectWriter'): Promise<string> {
  const name = bucketName('acl');
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: ownership }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  return name;
}

/** An unsigned request, as a browser or curl sends it. */
async function anonymous(method: string, path: string, query?: string): Promise<{ status: number; text: string }> {
  const r = await signedFetch(m, method, path, query === undefined ? { anonymous: true } : { anonymous: true, query });
  return { status: r.status, text: r.text };
}

/** A user in account B, optionally with an identity policy. */
async function userInB(statements?: object[]): Promise<{ arn: string; s3: S3Client }> {
  const iamB = iamClient(m, b);
  const name = `acl-user-${randomBytes(3).toString('hex')}`;
  const arn = (await iamB.send(new CreateUserCommand({ UserName: name }))).User!.Arn!;
  const key = (await iamB.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  if (statements) await iamB.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
  return { arn, s3: s3Client(m, 'us-east-1', { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }) };
}

describe('object ACLs', () => {
  test('public-read: readable anonymously under ObjectWriter, not once the bucket is BucketOwnerEnforced', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'site/index.html', Body: '<h1>hi</h1>', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private.txt', Body: 'secret' }));
    const got = await anonymous('GET', `/${bucket}/site/index.html`);
    assert.equal(got.status, 200);
    assert.equal(got.text, '<h1>hi</h1>');
    assert.equal((await anonymous('HEAD', `/${bucket}/site/index.html`)).status, 200);
    assert.equal((await anonymous('GET', `/${bucket}/private.txt`)).status, 403);
    // READ is the object's data, not its ACL, and not the bucket listing.
    assert.equal((await anonymous('GET', `/${bucket}/site/index.html`, 'acl')).status, 403);
    assert.equal((await anonymous('GET', `/${bucket}`, 'list-type=2')).status, 403);

    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    assert.equal((await anonymous('GET', `/${bucket}/site/index.html`)).status, 403);
  });

  test('an explicit deny in the bucket policy wins over a public-read grant', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ACL: 'public-read' }));
    assert.equal((await anonymous('GET', `/${bucket}/k`)).status, 200);
    const deny = { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [deny] }) }));
    assert.equal((await anonymous('GET', `/${bucket}/k`)).status, 403);
  });

  test('a grant to another account: its root reads; its users only with their own identity policy', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'report.csv', Body: 'a,b' }));
    await rejects(s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.csv' })), 'AccessDenied', 403);
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'report.csv', GrantRead: `id="${bCanonicalId}"` }));
    assert.equal(await (await s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.csv' }))).Body!.transformToString(), 'a,b');
    // READ does not give the ACL itself.
    await rejects(s3b.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'report.csv' })), 'AccessDenied', 403);

    const bare = await userInB();
    const err = await rejects(bare.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.csv' })), 'AccessDenied', 403);
    assert.match(err.message, /because no identity-based policy allows the s3:GetObject action$/);
    const allowed = await userInB([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }]);
    assert.equal(await (await allowed.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'report.csv' }))).Body!.transformToString(), 'a,b');
  });

  test('AllUsers and AuthenticatedUsers grants through x-amz-grant-* headers', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'members', Body: 'm', GrantRead: `uri="${AUTHENTICATED}"` }));
    assert.equal((await anonymous('GET', `/${bucket}/members`)).status, 403);
    assert.equal(await (await s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'members' }))).Body!.transformToString(), 'm');

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'everyone', Body: 'e', GrantRead: `uri="${ALL_USERS}"`, GrantReadACP: `uri="${ALL_USERS}"` }));
    assert.equal((await anonymous('GET', `/${bucket}/everyone`)).status, 200);
    const acl = await anonymous('GET', `/${bucket}/everyone`, 'acl');
    assert.equal(acl.status, 200);
    assert.match(acl.text, /<URI>http:\/\/acs\.amazonaws\.com\/groups\/global\/AllUsers<\/URI><\/Grantee><Permission>READ_ACP<\/Permission>/);
  });

  test('s3cmd setacl --acl-public: a raw AccessControlPolicy adding AllUsers READ to the existing grants', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file.txt', Body: 'shared by s3cmd' }));
    assert.equal((await anonymous('GET', `/${bucket}/file.txt`)).status, 403);
    // s3cmd reads the ACL, appends the AllUsers grant and PUTs the document back, unnamespaced.
    const current = await signedFetch(m, 'GET', `/${bucket}/file.txt`, { query: 'acl' });
    const ownerId = /<Owner><ID>([0-9a-f]+)<\/ID>/.exec(current.text)![1]!;
    const body =
      `<AccessControlPolicy><Owner><ID>${ownerId}</ID><DisplayName></DisplayName></Owner><AccessControlList>` +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${ownerId}</ID><DisplayName></DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
      `</AccessControlList></AccessControlPolicy>`;
    const put = await signedFetch(m, 'PUT', `/${bucket}/file.txt`, { query: 'acl', body, headers: { 'content-type': 'application/xml' } });
    assert.equal(put.status, 200, put.text);
    const got = await anonymous('GET', `/${bucket}/file.txt`);
    assert.equal(got.status, 200);
    assert.equal(got.text, 'shared by s3cmd');
  });
});

describe('BucketOwnerEnforced', () => {
  test('a cross-account writer must give bucket-owner-full-control or no ACL; its `private` gives the owner nothing and is refused', async () => {
    const bucket = bucketName('enforced');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // ACL headers on PutObject also need s3:PutObjectAcl (services/s3/iam-actions.ts).
    const write = { Effect: 'Allow', Principal: { AWS: b.accountId }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${bucket}/*` };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [write] }) }));
    await rejects(s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'private' })), 'AccessControlListNotSupported', 400);
    await rejects(s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', GrantRead: `id="${bCanonicalId}"` })), 'AccessControlListNotSupported', 400);
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'p', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'q', Body: 'y' }));
    // The bucket owner owns both, and the owner's own `private` is bucket owner full control.
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'p' }))).Body!.transformToString(), 'x');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'z', ACL: 'private' }));
  });
});

describe('bucket ACLs', () => {
  test('public-read lists the bucket anonymously; READ on the bucket does not read objects', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'a' }));
    assert.equal((await anonymous('GET', `/${bucket}`, 'list-type=2')).status, 403);
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
    const list = await anonymous('GET', `/${bucket}`, 'list-type=2');
    assert.equal(list.status, 200);
    assert.match(list.text, /<Key>a\.txt<\/Key>/);
    assert.equal((await anonymous('GET', `/${bucket}/a.txt`)).status, 403);
  });

  test("WRITE to another account: it uploads (owning what it writes, under ObjectWriter) and reads its own objects back", async () => {
    const bucket = await aclBucket();
    await rejects(s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'drop/1', Body: 'from B' })), 'AccessDenied', 403);
    const ownerId = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${ownerId}"`, GrantWrite: `id="${bCanonicalId}"` }));
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'drop/1', Body: 'from B' }));
    assert.equal(await (await s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'drop/1' }))).Body!.transformToString(), 'from B');
    const acl = await s3b.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'drop/1' }));
    assert.equal(acl.Owner?.ID, bCanonicalId);
    // WRITE is not READ: B cannot list.
    await rejects(s3b.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 403);
    // Uploading with bucket-owner-full-control, as cross-account writers do, needs only WRITE too.
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'drop/2', Body: 'for A', ACL: 'bucket-owner-full-control' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'drop/2' }))).Body!.transformToString(), 'for A');
  });

  test('BucketOwnerPreferred: an upload with bucket-owner-full-control belongs to the bucket owner; one without stays the writer\'s', async () => {
    const bucket = await aclBucket('BucketOwnerPreferred');
    const ownerId = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${ownerId}"`, GrantWrite: `id="${bCanonicalId}"` }));
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'given', Body: 'g', ACL: 'bucket-owner-full-control' }));
    await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: 'k' }));
    assert.equal((await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'given' }))).Owner?.ID, ownerId);
    assert.equal((await s3b.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'kept' }))).Owner?.ID, bCanonicalId);
    // Given away: B no longer owns it and has no grant to read it.
    await rejects(s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'given' })), 'AccessDenied', 403);
  });
});

describe('Block Public Access on ACLs', () => {
  const block = (bucket: string, config: PublicAccessBlockConfiguration) => s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: config }));

  test('BlockPublicAcls refuses every way of setting a public ACL with 403 AccessDenied; private ones still pass', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'existing', Body: 'x' }));
    await block(bucket, { BlockPublicAcls: true });

    await rejects(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })), 'AccessDenied', 403);
    await rejects(s3.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: `uri="${AUTHENTICATED}"` })), 'AccessDenied', 403);
    await rejects(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'existing', ACL: 'public-read' })), 'AccessDenied', 403);
    const doc =
      `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">` +
      `<URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`;
    assert.equal((await signedFetch(m, 'PUT', `/${bucket}/existing`, { query: 'acl', body: doc })).status, 403);

    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'y', ACL: 'public-read' })), 'AccessDenied', 403);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'y', GrantRead: `uri="${ALL_USERS}"` })), 'AccessDenied', 403);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'new' })), 'NotFound', 404);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/existing`, ACL: 'public-read-write' })), 'AccessDenied', 403);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ACL: 'authenticated-read' })), 'AccessDenied', 403);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'y', ACL: 'private' }));
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'existing', GrantRead: `id="${bCanonicalId}"` }));
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
    assert.equal((await anonymous('GET', `/${bucket}/existing`)).status, 403);
  });

  test('IgnorePublicAcls: public grants stop granting (and still show); grants to accounts keep working', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub', Body: 'p', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'auth', Body: 'a', ACL: 'authenticated-read' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b-only', Body: 'b', GrantRead: `id="${bCanonicalId}"` }));
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
    assert.equal((await anonymous('GET', `/${bucket}/pub`)).status, 200);
    assert.equal((await anonymous('GET', `/${bucket}`, 'list-type=2')).status, 200);

    await block(bucket, { IgnorePublicAcls: true });
    assert.equal((await anonymous('GET', `/${bucket}/pub`)).status, 403);
    assert.equal((await anonymous('GET', `/${bucket}`, 'list-type=2')).status, 403);
    await rejects(s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'auth' })), 'AccessDenied', 403);
    assert.equal(await (await s3b.send(new GetObjectCommand({ Bucket: bucket, Key: 'b-only' }))).Body!.transformToString(), 'b');
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'pub' }));
    assert.ok(acl.Grants?.some((g) => g.Grantee?.URI === ALL_USERS));
    // IgnorePublicAcls alone does not refuse writing them.
    await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'b-only', ACL: 'public-read' }));

    await block(bucket, { IgnorePublicAcls: false });
    assert.equal((await anonymous('GET', `/${bucket}/pub`)).status, 200);
  });
});

describe('ACL decisions are explained', () => {
  test('the decision log, the admin explain endpoint and `meridian explain` name the grant that allowed', async () => {
    const bucket = await aclBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub.txt', Body: 'p', ACL: 'public-read' }));
    const got = await signedFetch(m, 'GET', `/${bucket}/pub.txt`, { anonymous: true });
    assert.equal(got.status, 200);
    const requestId = String(got.headers['x-amz-request-id']);
    const grant = `Allow grant #1 (READ to AllUsers) of object ACL of ${bucket}/pub.txt`;
    const logged = await eventually(async () => {
      for (const line of m.logs().split('\n')) {
        if (!line.includes(requestId) || !line.includes('authorization decision')) continue;
        return JSON.parse(line) as { outcome: string; decidedBy: string[]; policies: string[] };
      }
      return undefined;
    }, 5000, 20);
    assert.equal(logged.outcome, 'Allow');
    assert.deepEqual(logged.decidedBy, [grant]);
    assert.ok(logged.policies.includes(`object ACL of ${bucket}/pub.txt`));

    const query = `principal=anonymous&action=s3%3AGetObject&resource=${encodeURIComponent(`arn:aws:s3:::${bucket}/pub.txt`)}`;
    const r = await signedFetch(m, 'GET', '/_meridian/explain', { query });
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as { decision: { outcome: string; statements: { source: string; grant?: string }[] }; text: string };
    assert.equal(body.decision.outcome, 'Allow');
    assert.deepEqual(body.decision.statements.map((st) => [st.source, st.grant]), [['acl', 'READ to AllUsers']]);
    assert.ok(body.text.includes(grant), body.text);

    const cli = await meridianOnDataDir(['explain', '--principal', 'anonymous', '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/pub.txt`], m.dataDir);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.ok(cli.stdout.includes(grant), cli.stdout);
    assert.match(cli.stdout, new RegExp(`access control list: object ACL of ${bucket}/pub\\.txt \\(2 grants\\)`));
    const priv = await meridianOnDataDir(['explain', '--principal', b.accountId, '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/pub.txt`, '--json'], m.dataDir);
    // A signed caller from another account is "AllUsers" too.
    assert.equal(priv.code, 0, priv.stdout + priv.stderr);

    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    const ignored = await meridianOnDataDir(['explain', '--principal', 'anonymous', '--action', 's3:GetObject', '--resource', `arn:aws:s3:::${bucket}/pub.txt`], m.dataDir);
    assert.equal(ignored.code, 3);
    assert.match(ignored.stdout, /object ACL of .*pub\.txt \(public grants ignored: IgnorePublicAcls\) \(1 grant\)/);
  });
});
