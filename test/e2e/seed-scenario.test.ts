/**
 * The seed scenario, end to end, with the real aws CLI v1: S3 cross-region replication of SSE-KMS
 * objects, re-encrypted under the destination region's key (issue 2, steps 1–7). It runs over
 * HTTPS with the generated certificate, so the CLI uploads with aws-chunked bodies and CRC32
 * trailers exactly as it does against AWS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsCli, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpScenario, type Scenario } from './walkthrough.js';

describe('seed walkthrough: CRR of SSE-KMS objects with the aws CLI over HTTPS', () => {
  let m: MeridianProcess;
  let cli: AwsCli;
  let s: Scenario;
  const big = randomBytes(20 * 1024 * 1024);
  const small = Buffer.from('replicate me, encrypted\n');
  const versions: Record<string, string> = {};

  before(async () => {
    m = await startMeridianProcess();
    cli = new AwsCli(walkthroughProfiles(m, m.httpsEndpoint!), { caBundle: m.certFile! });
  });

  after(async () => {
    cli?.remove();
    await m?.stop();
  });

  it('steps 1–5: keys in both regions, versioned buckets, the role and the replication configuration', async () => {
    s = await setUpScenario(cli);
    assert.match(s.srcKeyArn, /^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
    assert.match(s.destKeyArn, /^arn:aws:kms:us-east-2:000000000000:key\/[0-9a-f-]{36}$/);
    assert.equal(s.roleArn, `arn:aws:iam::000000000000:role/${s.roleName}`);

    const srcLocation = await cli.run(['s3api', 'get-bucket-location', '--bucket', s.src, '--profile', 'src_profile']);
    assert.equal(srcLocation.json.LocationConstraint ?? null, null, 'us-east-1 buckets have an empty LocationConstraint');
    const destLocation = await cli.run(['s3api', 'get-bucket-location', '--bucket', s.dest, '--profile', 'src_profile']);
    assert.equal(destLocation.json.LocationConstraint, 'us-east-2');

    const config = await cli.run(['s3api', 'get-bucket-replication', '--bucket', s.src, '--profile', 'src_profile']);
    const rule = config.json.ReplicationConfiguration.Rules[0];
    assert.equal(config.json.ReplicationConfiguration.Role, s.roleArn);
    assert.equal(rule.Prefix, '');
    assert.equal(rule.Status, 'Enabled');
    assert.equal(rule.Destination.Bucket, `arn:aws:s3:::${s.dest}`);
    assert.equal(rule.Destination.EncryptionConfiguration.ReplicaKmsKeyID, s.destKeyArn);
    assert.equal(rule.SourceSelectionCriteria.SseKmsEncryptedObjects.Status, 'Enabled');
    assert.ok(rule.ID, 'S3 generates a rule ID when none is given');
  });

  it('a request for the destination bucket signed for us-east-1 still works (AuthorizationHeaderMalformed + <Region> redirect)', async () => {
    const v = await cli.run(['s3api', 'get-bucket-versioning', '--bucket', s.dest, '--profile', 'src_profile']);
    assert.equal(v.json.Status, 'Enabled');
  });

  it('step 6: uploads — put-object with SSE-KMS, a 20 MB multipart aws s3 cp with SSE-KMS, a plain put-object', async () => {
    const smallFile = cli.file('small.txt', small);
    const put = await cli.run([
      's3api', 'put-object', '--bucket', s.src, '--key', 'docs/kms.txt', '--body', smallFile,
      '--server-side-encryption', 'aws:kms', '--ssekms-key-id', s.srcKeyArn, '--profile', 'src_profile',
    ]);
    assert.equal(put.json.ServerSideEncryption, 'aws:kms');
    assert.equal(put.json.SSEKMSKeyId, s.srcKeyArn);
    versions['docs/kms.txt'] = put.json.VersionId;

    const bigFile = cli.file('big.bin', big);
    await cli.run(['s3', 'cp', bigFile, `s3://${s.src}/data/big.bin`, '--sse', 'aws:kms', '--sse-kms-key-id', s.srcKeyArn, '--profile', 'src_profile', '--only-show-errors']);
    const head = await cli.run(['s3api', 'head-object', '--bucket', s.src, '--key', 'data/big.bin', '--profile', 'src_profile']);
    assert.match(head.json.ETag, /^"[0-9a-f]{32}-3"$/, '20 MB in 8 MiB parts is a 3-part multipart upload');
    assert.equal(head.json.ServerSideEncryption, 'aws:kms');
    versions['data/big.bin'] = head.json.VersionId;

    const plain = await cli.run(['s3api', 'put-object', '--bucket', s.src, '--key', 'plain.txt', '--body', smallFile, '--profile', 'src_profile']);
    assert.equal(plain.json.ServerSideEncryption, 'AES256', 'objects without SSE headers get SSE-S3');
    versions['plain.txt'] = plain.json.VersionId;
  });

  it('step 7: within seconds the source shows COMPLETED and the replicas are REPLICA, under the destination key, same version id, same bytes', async () => {
    for (const key of ['docs/kms.txt', 'data/big.bin', 'plain.txt']) {
      const source = await eventually(async () => {
        const h = await cli.run(['s3api', 'head-object', '--bucket', s.src, '--key', key, '--profile', 'src_profile']);
        return h.json.ReplicationStatus === 'COMPLETED' ? h.json : undefined;
      }, 30_000, 250);
      assert.equal(source.VersionId, versions[key]);

      const replica = (await cli.run(['s3api', 'head-object', '--bucket', s.dest, '--key', key, '--profile', 'dest_profile'])).json;
      assert.equal(replica.ReplicationStatus, 'REPLICA');
      assert.equal(replica.VersionId, versions[key], 'replicas keep the source version id');
      assert.equal(replica.ETag, source.ETag);
      assert.equal(replica.ContentLength, source.ContentLength);
      if (key === 'plain.txt') {
        assert.equal(replica.ServerSideEncryption, 'AES256', 'SSE-S3 objects replicate as SSE-S3');
      } else {
        assert.equal(replica.ServerSideEncryption, 'aws:kms');
        assert.equal(replica.SSEKMSKeyId, s.destKeyArn, 'the replica is encrypted under ReplicaKmsKeyID');
      }
    }
    const out = join(cli.dir, 'replica-big.bin');
    await cli.run(['s3', 'cp', `s3://${s.dest}/data/big.bin`, out, '--profile', 'dest_profile', '--only-show-errors']);
    assert.ok(readFileSync(out).equals(big), 'the 20 MB replica has identical bytes');
    const smallOut = join(cli.dir, 'replica-small.txt');
    await cli.run(['s3api', 'get-object', '--bucket', s.dest, '--key', 'docs/kms.txt', smallOut, '--profile', 'dest_profile']);
    assert.ok(readFileSync(smallOut).equals(small));
  });

  it('step 7: a delete marker on the source appears on the destination (V1 rules replicate user delete markers)', async () => {
    const del = await cli.run(['s3api', 'delete-object', '--bucket', s.src, '--key', 'plain.txt', '--profile', 'src_profile']);
    assert.equal(del.json.DeleteMarker, true);
    const markerId = del.json.VersionId;
    const markers = await eventually(async () => {
      const l = await cli.run(['s3api', 'list-object-versions', '--bucket', s.dest, '--prefix', 'plain.txt', '--profile', 'dest_profile']);
      return l.json.DeleteMarkers?.length ? l.json.DeleteMarkers : undefined;
    }, 30_000, 250);
    assert.equal(markers[0].VersionId, markerId, 'the replicated marker keeps its version id');
    assert.equal(markers[0].IsLatest, true);
    await assert.rejects(cli.run(['s3api', 'head-object', '--bucket', s.dest, '--key', 'plain.txt', '--profile', 'dest_profile']), /404|Not Found/);
  });

  it('the replica really is encrypted under the destination key: reading it needs kms:Decrypt on that key', async () => {
    // Disable the destination key: reading the SSE-KMS replica must now fail with KMS.DisabledException.
    await cli.run(['kms', 'disable-key', '--key-id', s.destKeyArn, '--region', 'us-east-2', '--profile', 'dest_profile']);
    await assert.rejects(
      cli.run(['s3api', 'get-object', '--bucket', s.dest, '--key', 'docs/kms.txt', join(cli.dir, 'x'), '--profile', 'dest_profile']),
      /KMS\.DisabledException/,
    );
    // The source object is under the source key and still readable.
    await cli.run(['s3api', 'get-object', '--bucket', s.src, '--key', 'docs/kms.txt', join(cli.dir, 'y'), '--profile', 'src_profile']);
    await cli.run(['kms', 'enable-key', '--key-id', s.destKeyArn, '--region', 'us-east-2', '--profile', 'dest_profile']);
  });
});
