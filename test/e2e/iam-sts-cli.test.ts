/**
 * The real `aws` CLI v1 end to end for IAM and STS, as a user would type it: users, access keys,
 * managed and inline policies, groups, roles; `aws sts assume-role`, then the returned credentials in
 * a profile for S3. botocore decodes IAM's URL-encoded policy documents into JSON objects
 * (reference §2.2), which is what the CLI prints.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsCli, AwsCliError, type Profile } from '../support/aws-cli.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';

let m: MeridianProcess;
const clis: AwsCli[] = [];
const bucket = `cli-iam-${Date.now().toString(36)}`;

function cli(profiles: Omit<Profile, 'endpoint' | 'region'>[]): AwsCli {
  const c = new AwsCli(profiles.map((p) => ({ ...p, region: 'us-east-1', endpoint: m.httpEndpoint })));
  clis.push(c);
  return c;
}

let admin: AwsCli;

before(async () => {
  m = await startMeridianProcess({ tls: false });
  admin = cli([{ name: 'admin', accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey }]);
  await admin.run(['s3api', 'create-bucket', '--bucket', bucket, '--profile', 'admin']);
  admin.file('report.txt', 'quarterly numbers\n');
  await admin.run(['s3api', 'put-object', '--bucket', bucket, '--key', 'reports/q1.txt', '--body', 'report.txt', '--profile', 'admin']);
});
after(async () => {
  for (const c of clis) c.remove();
  await m?.stop();
});

const json = (o: object) => JSON.stringify(o);

describe('aws iam and aws sts assume-role', () => {
  test('a user with a managed policy assumes a role and uses the temporary credentials', async () => {
    const a = (args: string[]) => admin.run([...args, '--profile', 'admin']);
    const user = (await a(['iam', 'create-user', '--user-name', 'dev'])).json.User;
    assert.equal(user.Arn, `arn:aws:iam::${m.accountId}:user/dev`);
    const key = (await a(['iam', 'create-access-key', '--user-name', 'dev'])).json.AccessKey;
    assert.match(key.AccessKeyId, /^AKIA/);

    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.Arn }, Action: 'sts:AssumeRole' }] };
    admin.file('trust.json', json(trust));
    const role = (await a(['iam', 'create-role', '--role-name', 'report-reader', '--assume-role-policy-document', 'file://trust.json', '--description', 'reads reports'])).json.Role;
    assert.deepEqual(role.AssumeRolePolicyDocument, trust, 'botocore decodes the URL-encoded document');
    const read = { Version: '2012-10-17', Statement: [{ Sid: 'ReadReports', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/reports/*` }] };
    admin.file('read.json', json(read));
    await a(['iam', 'put-role-policy', '--role-name', 'report-reader', '--policy-name', 'read', '--policy-document', 'file://read.json']);
    assert.deepEqual((await a(['iam', 'get-role-policy', '--role-name', 'report-reader', '--policy-name', 'read'])).json.PolicyDocument, read);

    const assume = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.Arn }] };
    admin.file('assume.json', json(assume));
    const policy = (await a(['iam', 'create-policy', '--policy-name', 'may-assume-report-reader', '--policy-document', 'file://assume.json'])).json.Policy;
    assert.equal(policy.DefaultVersionId, 'v1');
    await a(['iam', 'create-group', '--group-name', 'developers']);
    await a(['iam', 'attach-group-policy', '--group-name', 'developers', '--policy-arn', policy.Arn]);
    await a(['iam', 'add-user-to-group', '--group-name', 'developers', '--user-name', 'dev']);
    const version = (await a(['iam', 'get-policy-version', '--policy-arn', policy.Arn, '--version-id', 'v1'])).json.PolicyVersion;
    assert.deepEqual(version.Document, assume);
    const groups = (await a(['iam', 'list-groups-for-user', '--user-name', 'dev'])).json.Groups;
    assert.deepEqual(groups.map((g: { GroupName: string }) => g.GroupName), ['developers']);

    const dev = cli([{ name: 'dev', accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }]);
    assert.equal((await dev.run(['sts', 'get-caller-identity', '--profile', 'dev'])).json.Arn, user.Arn);
    // The user itself cannot read the reports: only the role can.
    await assert.rejects(dev.run(['s3api', 'get-object', '--bucket', bucket, '--key', 'reports/q1.txt', 'out.txt', '--profile', 'dev']), /AccessDenied/);

    const assumed = (await dev.run(['sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'cli-session', '--duration-seconds', '900', '--profile', 'dev'])).json;
    assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${m.accountId}:assumed-role/report-reader/cli-session`);
    const c = assumed.Credentials;
    assert.match(c.AccessKeyId, /^ASIA/);
    const session = cli([{ name: 'session', accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }]);
    assert.equal((await session.run(['sts', 'get-caller-identity', '--profile', 'session'])).json.Arn, assumed.AssumedRoleUser.Arn);
    const got = await session.run(['s3', 'cp', `s3://${bucket}/reports/q1.txt`, '-', '--profile', 'session']);
    assert.equal(got.stdout, 'quarterly numbers\n');
    session.file('x.txt', 'x');
    const denied = await session.run(['s3api', 'put-object', '--bucket', bucket, '--key', 'reports/x.txt', '--body', 'x.txt', '--profile', 'session']).then(
      () => assert.fail('the role may not write'),
      (e: AwsCliError) => e.stderr,
    );
    assert.match(denied, /AccessDenied/);
    assert.match(denied, /assumed-role\/report-reader\/cli-session is not authorized to perform: s3:PutObject/);
  });

  test('errors as the CLI shows them: NoSuchEntity, EntityAlreadyExists, MalformedPolicyDocument, an untrusted assume-role', async () => {
    const a = (args: string[]) => admin.run([...args, '--profile', 'admin']).then(() => '', (e: AwsCliError) => e.stderr);
    assert.match(await a(['iam', 'get-role', '--role-name', 'nope']), /NoSuchEntity.*The role with name nope cannot be found/);
    await admin.run(['iam', 'create-user', '--user-name', 'twice', '--profile', 'admin']);
    assert.match(await a(['iam', 'create-user', '--user-name', 'twice']), /EntityAlreadyExists/);
    admin.file('bad.json', json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] }));
    assert.match(await a(['iam', 'create-policy', '--policy-name', 'bad', '--policy-document', 'file://bad.json']), /MalformedPolicyDocument.*Policy statement must contain resources/);
    const assumeAsRoot = await a(['sts', 'assume-role', '--role-arn', `arn:aws:iam::${m.accountId}:role/nope`, '--role-session-name', 's1']);
    assert.match(assumeAsRoot, /AccessDenied/);
  });
});
