/**
 * The authorization matrix (reference §3.5): principals (account root, IAM user, role session,
 * another account's user, anonymous) × S3 operations × policy setups, against a real server. Each
 * cell asserts the outcome the client sees AND the server's explanation of it: the debug log's
 * "authorization decision" for that request id names the deciding statement (by Sid) or AWS's
 * reason for the denial.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteRolePolicyCommand, DeleteUserPolicyCommand, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeletePublicAccessBlockCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { createAccount } from '../support/meridian-cli.js';
import { eventually, iamClient, s3Client, stsClient, type Credentials } from '../support/clients.js';
import { bucketName, type SdkError } from './helpers.js';

type Who = 'root' | 'user' | 'session' | 'otherAccountUser' | 'anonymous';
type Op = 'GetObject' | 'PutObject' | 'ListObjectsV2';
/** 'allow' with the Sids that must appear among the deciding statements, or 'deny' with the reason phrase. */
type Expect = ['allow', ...string[]] | ['deny', string];

const bucket = bucketName('matrix');
const ACTION: Record<Op, string> = { GetObject: 's3:GetObject', PutObject: 's3:PutObject', ListObjectsV2: 's3:ListBucket' };
const WHO: Who[] = ['root', 'user', 'session', 'otherAccountUser', 'anonymous'];
const OPS: Op[] = ['GetObject', 'PutObject', 'ListObjectsV2'];

const noIdentity = (op: Op) => `no identity-based policy allows the ${ACTION[op]} action`;
const noResource = (op: Op) => `no resource-based policy allows the ${ACTION[op]} action`;
const explicitResource = 'with an explicit deny in a resource-based policy';

/** The setups, applied in order (each one's expectations for every principal and operation). */
interface Setup {
  name: string;
  apply(): Promise<void>;
  expect: Record<Who, Record<Op, Expect>>;
}

let m: MeridianProcess;
let clients: Record<Exclude<Who, 'anonymous'>, S3Client>;
let otherAccount: string;

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const bucketArn = `arn:aws:s3:::${bucket}`;
const readAndList = (sid: string) => doc([{ Sid: sid, Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [bucketArn, `${bucketArn}/*`] }]);

function bucketPolicy(withDeny: boolean): string {
  const statements: object[] = [
    { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${bucketArn}/*` },
    { Sid: 'TeamB', Effect: 'Allow', Principal: { AWS: otherAccount }, Action: ['s3:ListBucket', 's3:PutObject'], Resource: [bucketArn, `${bucketArn}/*`] },
  ];
  if (withDeny) statements.push({ Sid: 'NoWrites', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `${bucketArn}/*` });
  return doc(statements);
}

const setups: Setup[] = [
  {
    name: 'no policies at all',
    apply: async () => {},
    expect: {
      root: { GetObject: ['allow'], PutObject: ['allow'], ListObjectsV2: ['allow'] },
      user: { GetObject: ['deny', noIdentity('GetObject')], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['deny', noIdentity('ListObjectsV2')] },
      session: { GetObject: ['deny', noIdentity('GetObject')], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['deny', noIdentity('ListObjectsV2')] },
      otherAccountUser: { GetObject: ['deny', noResource('GetObject')], PutObject: ['deny', noResource('PutObject')], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
      anonymous: { GetObject: ['deny', noResource('GetObject')], PutObject: ['deny', noResource('PutObject')], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
    },
  },
  {
    name: 'identity policies for the user and the role',
    apply: async () => {
      const iam = iamClient(m);
      await iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'read', PolicyDocument: readAndList('AliceRead') }));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'auditor', PolicyName: 'read', PolicyDocument: readAndList('AuditorRead') }));
    },
    expect: {
      root: { GetObject: ['allow'], PutObject: ['allow'], ListObjectsV2: ['allow'] },
      user: { GetObject: ['allow', 'AliceRead'], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['allow', 'AliceRead'] },
      session: { GetObject: ['allow', 'AuditorRead'], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['allow', 'AuditorRead'] },
      otherAccountUser: { GetObject: ['deny', noResource('GetObject')], PutObject: ['deny', noResource('PutObject')], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
      anonymous: { GetObject: ['deny', noResource('GetObject')], PutObject: ['deny', noResource('PutObject')], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
    },
  },
  {
    name: 'a bucket policy: public read, and list/write for the other account',
    apply: async () => {
      await s3Client(m).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: bucketPolicy(false) }));
    },
    expect: {
      root: { GetObject: ['allow', 'PublicRead'], PutObject: ['allow'], ListObjectsV2: ['allow'] },
      // '*' in a bucket policy names the caller itself: same-account callers need nothing else.
      user: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['allow', 'AliceRead'] },
      session: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', noIdentity('PutObject')], ListObjectsV2: ['allow', 'AuditorRead'] },
      // Cross-account: the bucket policy AND the caller's own policy.
      otherAccountUser: { GetObject: ['allow', 'PublicRead', 'BobAll'], PutObject: ['allow', 'TeamB', 'BobAll'], ListObjectsV2: ['allow', 'TeamB', 'BobAll'] },
      anonymous: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', noResource('PutObject')], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
    },
  },
  {
    name: 'the same bucket policy with an explicit Deny of writes; the user loses its identity policy',
    apply: async () => {
      await s3Client(m).send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: bucketPolicy(true) }));
      await iamClient(m).send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'read' }));
    },
    expect: {
      root: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', explicitResource], ListObjectsV2: ['allow'] },
      user: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', explicitResource], ListObjectsV2: ['deny', noIdentity('ListObjectsV2')] },
      session: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', explicitResource], ListObjectsV2: ['allow', 'AuditorRead'] },
      otherAccountUser: { GetObject: ['allow', 'PublicRead', 'BobAll'], PutObject: ['deny', explicitResource], ListObjectsV2: ['allow', 'TeamB', 'BobAll'] },
      anonymous: { GetObject: ['allow', 'PublicRead'], PutObject: ['deny', explicitResource], ListObjectsV2: ['deny', noResource('ListObjectsV2')] },
    },
  },
];

before(async () => {
  m = await startMeridianProcess({ env: { MERIDIAN_LOG_LEVEL: 'debug' }, tls: false });
  const b = await createAccount(m.dataDir, 'matrix-b');
  otherAccount = b.accountId;
  const root = s3Client(m);
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  // The setups grant to Principal "*": Block Public Access (on for new buckets) is turned off first.
  await root.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.txt', Body: 'doc' }));

  const iam = iamClient(m);
  const keyOf = async (client: typeof iam, user: string): Promise<Credentials> => {
    const k = (await client.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  const aliceArn = (await iam.send(new CreateUserCommand({ UserName: 'alice' }))).User!.Arn!;
  const alice = await keyOf(iam, 'alice');
  const roleArn = (await iam.send(new CreateRoleCommand({ RoleName: 'auditor', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: aliceArn }, Action: 'sts:AssumeRole' }]) })))
    .Role!.Arn!;
  const c = (await stsClient(m, 'us-east-1', alice).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'matrix' }))).Credentials!;

  const iamB = iamClient(m, b);
  await iamB.send(new CreateUserCommand({ UserName: 'bob' }));
  await iamB.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'all', PolicyDocument: doc([{ Sid: 'BobAll', Effect: 'Allow', Action: 's3:*', Resource: '*' }]) }));
  clients = {
    root,
    user: s3Client(m, 'us-east-1', alice),
    session: s3Client(m, 'us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }),
    otherAccountUser: s3Client(m, 'us-east-1', await keyOf(iamB, 'bob')),
  };
});
after(async () => {
  await iamClient(m).send(new DeleteRolePolicyCommand({ RoleName: 'auditor', PolicyName: 'read' })).catch(() => undefined);
  await m?.stop();
});

/** Run one operation; the outcome the client saw and the request id to find the server's explanation. */
async function call(who: Who, op: Op): Promise<{ allowed: boolean; requestId: string }> {
  const key = `m-${randomBytes(3).toString('hex')}.txt`;
  if (who === 'anonymous') {
    const url = `${m.httpEndpoint}/${bucket}${op === 'ListObjectsV2' ? '?list-type=2' : op === 'GetObject' ? '/doc.txt' : `/${key}`}`;
    const r = await fetch(url, op === 'PutObject' ? { method: 'PUT', body: 'x' } : {});
    await r.arrayBuffer();
    return { allowed: r.ok, requestId: r.headers.get('x-amz-request-id')! };
  }
  const client = clients[who];
  const command =
    op === 'GetObject'
      ? new GetObjectCommand({ Bucket: bucket, Key: 'doc.txt' })
      : op === 'PutObject'
        ? new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })
        : new ListObjectsV2Command({ Bucket: bucket });
  try {
    const out = await client.send(command as GetObjectCommand);
    await out.Body?.transformToString();
    return { allowed: true, requestId: out.$metadata.requestId! };
  } catch (e) {
    const err = e as SdkError;
    assert.equal(err.name, 'AccessDenied', `${who} ${op}: ${err.message}`);
    return { allowed: false, requestId: err.$metadata.requestId! };
  }
}

interface DecisionLog {
  requestId: string;
  action: string;
  outcome: string;
  message: string;
  decidedBy: string[];
}

async function decisionFor(requestId: string, action: string): Promise<DecisionLog> {
  return eventually(async () => {
    for (const line of m.logs().split('\n')) {
      if (!line.includes(requestId)) continue;
      const entry = JSON.parse(line) as DecisionLog & { msg: string };
      if (entry.msg === 'authorization decision' && entry.requestId === requestId && entry.action === action) return entry;
    }
    return undefined;
  }, 5000, 20);
}

describe('authorization matrix: principals × operations × policies', () => {
  for (const setup of setups) {
    describe(setup.name, () => {
      before(() => setup.apply());
      for (const who of WHO) {
        for (const op of OPS) {
          const [outcome, ...detail] = setup.expect[who][op];
          test(`${who} ${op} → ${outcome}${detail.length ? ` (${detail.join(', ')})` : ''}`, async () => {
            const r = await call(who, op);
            assert.equal(r.allowed, outcome === 'allow', `${who} ${op}`);
            const d = await decisionFor(r.requestId, ACTION[op]);
            if (outcome === 'allow') {
              assert.equal(d.outcome, 'Allow');
              for (const sid of detail) assert.ok(d.decidedBy.some((s) => s.includes(`(Sid "${sid}")`)), `${sid} not among ${JSON.stringify(d.decidedBy)}`);
              if (detail.length === 0) assert.ok(d.decidedBy.every((s) => !/Sid "(AliceRead|AuditorRead|BobAll)"/.test(s)), 'the root needs no identity policy');
            } else {
              assert.notEqual(d.outcome, 'Allow');
              assert.ok(d.message.endsWith(detail[0]!), `"${d.message}" should end with "${detail[0]}"`);
            }
          });
        }
      }
    });
  }
});
