/**
 * The seed walkthrough with the aws CLI v2 (Debian's awscli, /usr/bin/aws, given --endpoint-url on
 * every command): KMS keys in two regions, versioned buckets, the replication role and rule, then an
 * SSE-KMS object that arrives in the other region as a REPLICA under the destination key, same bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsCli, walkthroughProfiles } from '../support/aws-cli.js';
import { eventually } from '../support/clients.js';
import { installed } from '../support/external-clients.js';
import { startMeridianProcess, type MeridianProcess } from '../support/meridian-process.js';
import { setUpScenario } from './walkthrough.js';

const AWS_V2 = '/usr/bin/aws';

describe('aws CLI v2: the seed walkthrough', { skip: !installed(AWS_V2) && 'the aws CLI v2 is not installed (apt-get install awscli)' }, () => {
  let m: MeridianProcess;
  before(async () => {
    m = await startMeridianProcess();
  });
  after(async () => {
    await m?.stop();
  });

  describe('the seed walkthrough over HTTPS (SSE-KMS objects replicated to another region)', () => {
    let cli: AwsCli;
    before(() => {
      cli = new AwsCli(walkthroughProfiles(m, m.httpsEndpoint!), { caBundle: m.certFile!, binary: AWS_V2, endpointUrl: m.httpsEndpoint! });
    });
    after(() => cli?.remove());

    test('keys, versioned buckets, role and rule; an SSE-KMS object arrives as a REPLICA under the destination key with the same bytes', async () => {
      const s = await setUpScenario(cli);
      const data = randomBytes(300_000);
      const file = cli.file('kms.bin', data);
      const put = await cli.run(['s3api', 'put-object', '--bucket', s.src, '--key', 'docs/kms.bin', '--body', file, '--server-side-encryption', 'aws:kms', '--ssekms-key-id', s.srcKeyArn, '--profile', 'src_profile']);
      assert.equal(put.json.SSEKMSKeyId, s.srcKeyArn);
      const replica = await eventually(async () => {
        try {
          const h = await cli.run(['s3api', 'head-object', '--bucket', s.dest, '--key', 'docs/kms.bin', '--profile', 'dest_profile']);
          return h.json.ReplicationStatus === 'REPLICA' ? h.json : undefined;
        } catch {
          return undefined;
        }
      }, 30_000, 250);
      assert.equal(replica.VersionId, put.json.VersionId);
      assert.equal(replica.SSEKMSKeyId, s.destKeyArn);
      const out = join(cli.dir, 'replica.bin');
      await cli.run(['s3api', 'get-object', '--bucket', s.dest, '--key', 'docs/kms.bin', out, '--profile', 'dest_profile']);
      assert.ok(readFileSync(out).equals(data), 'the replica has the same bytes');
    });
  });
});
