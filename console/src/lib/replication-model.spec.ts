import { describe, expect, it } from 'vitest';
import { emptyRule, fromConfiguration, toConfiguration } from './replication-model';

describe('replication rules form ↔ ReplicationConfiguration', () => {
  it('writes a V1 rule as the walkthrough does: rule-level Prefix, no Filter, Priority or DeleteMarkerReplication', () => {
    const rule = { ...emptyRule(1, 'V1'), id: '', sseKms: true, destinationBucket: 'dest', replicaKmsKeyId: 'arn:aws:kms:us-east-2:000000000000:key/k' };
    expect(toConfiguration({ role: 'arn:aws:iam::000000000000:role/r', rules: [rule] })).toEqual({
      Role: 'arn:aws:iam::000000000000:role/r',
      Rules: [
        {
          Status: 'Enabled',
          Prefix: '',
          Destination: { Bucket: 'arn:aws:s3:::dest', EncryptionConfiguration: { ReplicaKmsKeyID: 'arn:aws:kms:us-east-2:000000000000:key/k' } },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        },
      ],
    });
  });

  it('writes V2 filters: none, prefix, one tag, and prefix with tags under And', () => {
    const base = { ...emptyRule(1), destinationBucket: 'arn:aws:s3:::dest' };
    const filter = (r: Partial<typeof base>) => toConfiguration({ role: 'r', rules: [{ ...base, ...r }] }).Rules![0]!;
    expect(filter({}).Filter).toEqual({});
    expect(filter({}).DeleteMarkerReplication).toEqual({ Status: 'Disabled' });
    expect(filter({}).Priority).toBe(1);
    expect(filter({ prefix: 'logs/' }).Filter).toEqual({ Prefix: 'logs/' });
    expect(filter({ tags: [{ key: 'k', value: 'v' }] }).Filter).toEqual({ Tag: { Key: 'k', Value: 'v' } });
    expect(filter({ prefix: 'a/', tags: [{ key: 'k', value: 'v' }] }).Filter).toEqual({ And: { Prefix: 'a/', Tags: [{ Key: 'k', Value: 'v' }] } });
    expect(filter({ rtc: true }).Destination!.ReplicationTime).toEqual({ Status: 'Enabled', Time: { Minutes: 15 } });
    expect(filter({ priority: '' }).Priority).toBeUndefined();
  });

  it('reads back what it writes', () => {
    const form = {
      role: 'arn:aws:iam::000000000000:role/r',
      rules: [
        { ...emptyRule(1), id: 'a', prefix: 'x/', tags: [{ key: 'k', value: 'v' }], deleteMarkers: true, destinationBucket: 'd1', sseKms: true, replicaKmsKeyId: 'key', rtc: true, storageClass: 'STANDARD_IA' },
        { ...emptyRule(2, 'V1'), id: 'b', prefix: 'y/', destinationBucket: 'd2' },
      ],
    };
    expect(fromConfiguration(toConfiguration(form))).toEqual(form);
  });
});
