/** PutBucketReplication's document checks (reference §1.4), with AWS's codes and messages. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceError } from '../common/errors.js';
import { validateReplicationConfiguration, type ReplicationConfiguration, type ReplicationRule } from './config.js';

const ROLE = 'arn:aws:iam::000000000000:role/replication';
const v1 = (over: Partial<ReplicationRule> = {}): ReplicationRule => ({ id: '', prefix: '', status: 'Enabled', destination: { bucket: 'arn:aws:s3:::dst' }, ...over });
const v2 = (over: Partial<ReplicationRule> = {}): ReplicationRule => ({
  id: '', priority: 1, status: 'Enabled', filter: { tags: [], form: 'Empty' }, deleteMarkerReplication: 'Disabled', destination: { bucket: 'arn:aws:s3:::dst' }, ...over,
});

function rejects(config: ReplicationConfiguration, code: string, message: RegExp): void {
  assert.throws(
    () => validateReplicationConfiguration(config, 'src'),
    (e: ServiceError) => e.code === code && message.test(e.message),
  );
}

describe('validateReplicationConfiguration', () => {
  it('accepts the walkthrough configuration and generates a rule ID', () => {
    const config = { role: ROLE, rules: [v1({ sseKmsEncryptedObjects: 'Enabled', destination: { bucket: 'arn:aws:s3:::dst', replicaKmsKeyId: 'arn:aws:kms:us-east-2:000000000000:key/x' } })] };
    validateReplicationConfiguration(config, 'src');
    assert.ok(config.rules[0]!.id.length > 0);
  });

  it('SseKmsEncryptedObjects without ReplicaKmsKeyID is InvalidRequest', () => {
    rejects({ role: ROLE, rules: [v1({ sseKmsEncryptedObjects: 'Enabled' })] }, 'InvalidRequest', /^ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present\.$/);
  });

  it('V1 rules may not carry DeleteMarkerReplication or Priority', () => {
    rejects({ role: ROLE, rules: [v1({ deleteMarkerReplication: 'Enabled' })] }, 'InvalidRequest', /^DeleteMarkerReplication cannot be used for this version/);
    rejects({ role: ROLE, rules: [v1({ priority: 1 })] }, 'InvalidRequest', /^Priority cannot be used for this version/);
  });

  it('V2 rules need DeleteMarkerReplication and Priority', () => {
    const { deleteMarkerReplication: _d, ...noDmr } = v2();
    rejects({ role: ROLE, rules: [noDmr as ReplicationRule] }, 'InvalidRequest', /^DeleteMarkerReplication must be specified/);
    const { priority: _p, ...noPriority } = v2();
    rejects({ role: ROLE, rules: [noPriority as ReplicationRule] }, 'InvalidRequest', /^Priority must be specified/);
  });

  it('delete marker replication is refused with a tag filter', () => {
    rejects({ role: ROLE, rules: [v2({ deleteMarkerReplication: 'Enabled', filter: { tags: [{ key: 'a', value: 'b' }], form: 'Tag' } })] }, 'InvalidRequest', /Tag filter/);
  });

  it('V1 configurations have one destination and non-overlapping prefixes; V1 and V2 rules do not mix', () => {
    rejects({ role: ROLE, rules: [v1({ prefix: 'a' }), v1({ prefix: 'b', destination: { bucket: 'arn:aws:s3:::dst2' } })] }, 'InvalidRequest', /distinct destination bucket ARNs cannot exceed 1/);
    rejects({ role: ROLE, rules: [v1({ prefix: 'a' }), v1({ prefix: 'ab' })] }, 'InvalidRequest', /overlapping prefixes 'a' and 'ab'/);
    rejects({ role: ROLE, rules: [v1(), v2()] }, 'InvalidRequest', /mix/);
  });

  it('empty rule lists are MalformedXML; duplicate ids, bad ARNs and the source as destination are refused', () => {
    rejects({ role: ROLE, rules: [] }, 'MalformedXML', /not well-formed/);
    rejects({ role: ROLE, rules: [v2({ id: 'x' }), v2({ id: 'x', priority: 2 })] }, 'InvalidArgument', /unique/);
    rejects({ role: ROLE, rules: [v1({ destination: { bucket: 'dst' } })] }, 'InvalidArgument', /Invalid bucket ARN/);
    rejects({ role: ROLE, rules: [v1({ destination: { bucket: 'arn:aws:s3:::src' } })] }, 'InvalidRequest', /same as the source/);
    rejects({ role: 'not-a-role', rules: [v1()] }, 'InvalidArgument', /Role/);
  });

  it('equal priorities for the same destination are refused; RTC needs Metrics', () => {
    rejects({ role: ROLE, rules: [v2({ id: 'a' }), v2({ id: 'b' })] }, 'InvalidRequest', /duplicate priority/);
    rejects({ role: ROLE, rules: [v2({ destination: { bucket: 'arn:aws:s3:::dst', replicationTime: { status: 'Enabled', minutes: 15 } } })] }, 'InvalidRequest', /both ReplicationTime and Metrics/);
  });
});
