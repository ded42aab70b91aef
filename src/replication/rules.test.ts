/** Which new versions replicate where (reference §2.1, §2.3). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicationConfiguration, ReplicationRule } from './config.js';
import { planReplication, type ReplicationCandidate } from './rules.js';

const v1 = (over: Partial<ReplicationRule> = {}): ReplicationRule => ({ id: 'r1', prefix: '', status: 'Enabled', destination: { bucket: 'arn:aws:s3:::dst' }, ...over });
const config = (...rules: ReplicationRule[]): ReplicationConfiguration => ({ role: 'arn:aws:iam::000000000000:role/r', rules });
const object = (over: Partial<ReplicationCandidate> = {}): ReplicationCandidate => ({ key: 'docs/a.txt', isDeleteMarker: false, isReplica: false, encryption: 'AES256', ...over });

describe('planReplication', () => {
  it('SSE-S3 and unencrypted objects replicate by default', () => {
    assert.deepEqual(planReplication(config(v1()), object()), [{ ruleId: 'r1', destinationBucket: 'dst' }]);
  });

  it('SSE-KMS and DSSE-KMS objects replicate only with SseKmsEncryptedObjects Enabled', () => {
    assert.deepEqual(planReplication(config(v1()), object({ encryption: 'aws:kms' })), []);
    assert.deepEqual(planReplication(config(v1()), object({ encryption: 'aws:kms:dsse' })), []);
    const kms = v1({ sseKmsEncryptedObjects: 'Enabled', destination: { bucket: 'arn:aws:s3:::dst', replicaKmsKeyId: 'k' } });
    assert.equal(planReplication(config(kms), object({ encryption: 'aws:kms' })).length, 1);
  });

  it('replicas are never replicated again; disabled rules and other prefixes do not apply', () => {
    assert.deepEqual(planReplication(config(v1()), object({ isReplica: true })), []);
    assert.deepEqual(planReplication(config(v1({ status: 'Disabled' })), object()), []);
    assert.deepEqual(planReplication(config(v1({ prefix: 'logs/' })), object()), []);
    assert.deepEqual(planReplication(undefined, object()), []);
  });

  it('V1 rules replicate delete markers; V2 rules only with DeleteMarkerReplication Enabled and no tag filter', () => {
    assert.equal(planReplication(config(v1()), object({ isDeleteMarker: true })).length, 1);
    const v2 = (dmr: 'Enabled' | 'Disabled', tags: { key: string; value: string }[] = []): ReplicationRule => ({
      id: 'r2', priority: 1, status: 'Enabled', filter: { tags, form: tags.length ? 'Tag' : 'Empty' }, deleteMarkerReplication: dmr, destination: { bucket: 'arn:aws:s3:::dst' },
    });
    assert.equal(planReplication(config(v2('Enabled')), object({ isDeleteMarker: true })).length, 1);
    assert.deepEqual(planReplication(config(v2('Disabled')), object({ isDeleteMarker: true })), []);
    assert.deepEqual(planReplication(config(v2('Enabled', [{ key: 't', value: '1' }])), object({ isDeleteMarker: true })), []);
  });

  it('tag filters need every listed tag; the highest priority wins per destination; other destinations also get the object', () => {
    const rule = (id: string, priority: number, dest: string, tags: { key: string; value: string }[] = []): ReplicationRule => ({
      id, priority, status: 'Enabled', filter: { prefix: 'docs/', tags, form: 'And' }, deleteMarkerReplication: 'Disabled', destination: { bucket: `arn:aws:s3:::${dest}` },
    });
    const c = config(rule('low', 1, 'dst'), rule('high', 5, 'dst'), rule('other', 1, 'dst2', [{ key: 'team', value: 'a' }]));
    assert.deepEqual(planReplication(c, object()), [{ ruleId: 'high', destinationBucket: 'dst' }]);
    assert.deepEqual(planReplication(c, object({ tags: { team: 'a' } })), [
      { ruleId: 'high', destinationBucket: 'dst' },
      { ruleId: 'other', destinationBucket: 'dst2' },
    ]);
  });

  it('GLACIER and DEEP_ARCHIVE objects are not replicated', () => {
    assert.deepEqual(planReplication(config(v1()), object({ storageClass: 'GLACIER' })), []);
    assert.deepEqual(planReplication(config(v1()), object({ storageClass: 'DEEP_ARCHIVE' })), []);
  });
});

describe('explainRuleMatching', () => {
  it('names why each rule does or does not select the version, consistent with planReplication', async () => {
    const { explainRuleMatching } = await import('./rules.js');
    const v2 = (id: string, priority: number, over: Partial<ReplicationRule> = {}): ReplicationRule => ({
      id, priority, status: 'Enabled', filter: { prefix: 'docs/', tags: [], form: 'Prefix' }, deleteMarkerReplication: 'Disabled', destination: { bucket: 'arn:aws:s3:::dst' }, ...over,
    });
    const c = config(
      v2('low', 1),
      v2('high', 2),
      v2('other-dest', 1, { destination: { bucket: 'arn:aws:s3:::dst2' }, filter: { tags: [{ key: 'team', value: 'a' }], form: 'Tag' } }),
      v2('off', 3, { status: 'Disabled' }),
      v2('logs', 4, { filter: { prefix: 'logs/', tags: [], form: 'Prefix' } }),
    );
    const verdicts = explainRuleMatching(c, object({ tags: { team: 'a' } }));
    assert.deepEqual(verdicts.map((v) => [v.ruleId, v.selected]), [['low', false], ['high', true], ['other-dest', true], ['off', false], ['logs', false]]);
    assert.match(verdicts[0]!.reason, /rule high \(priority 2\).*higher priority/);
    assert.match(verdicts[3]!.reason, /Disabled/);
    assert.match(verdicts[4]!.reason, /prefix "logs\/"/);
    const kms = explainRuleMatching(config(v1()), object({ encryption: 'aws:kms' }));
    assert.match(kms[0]!.reason, /SseKmsEncryptedObjects/);
    assert.equal(kms[0]!.selected, false);
  });
});
