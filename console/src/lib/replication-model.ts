/**
 * The replication rules editor's form model and its translation to and from the SDK's
 * ReplicationConfiguration. V1 rules use the rule-level Prefix (no Filter, Priority or
 * DeleteMarkerReplication); V2 rules use Filter. The editor sends what the user wrote: S3 itself
 * validates it and its error is shown in place.
 */
import type { ReplicationConfiguration, ReplicationRule } from '@aws-sdk/client-s3';

export interface TagForm {
  key: string;
  value: string;
}

export interface RuleForm {
  id: string;
  status: 'Enabled' | 'Disabled';
  schema: 'V1' | 'V2';
  priority: string;
  prefix: string;
  tags: TagForm[];
  deleteMarkers: boolean;
  destinationBucket: string;
  destinationAccount: string;
  ownerOverride: boolean;
  storageClass: string;
  sseKms: boolean;
  replicaModifications: boolean;
  replicaKmsKeyId: string;
  rtc: boolean;
}

export interface ReplicationForm {
  role: string;
  rules: RuleForm[];
}

export function emptyRule(n: number, schema: 'V1' | 'V2' = 'V2'): RuleForm {
  return {
    id: `rule-${n}`,
    status: 'Enabled',
    schema,
    priority: schema === 'V2' ? String(n) : '',
    prefix: '',
    tags: [],
    deleteMarkers: false,
    destinationBucket: '',
    destinationAccount: '',
    ownerOverride: false,
    storageClass: '',
    sseKms: false,
    replicaModifications: false,
    replicaKmsKeyId: '',
    rtc: false,
  };
}

const BUCKET_ARN = 'arn:aws:s3:::';

export function bucketArn(nameOrArn: string): string {
  const v = nameOrArn.trim();
  return v.startsWith('arn:') ? v : `${BUCKET_ARN}${v}`;
}

export function bucketName(arn: string | undefined): string {
  return arn?.startsWith(BUCKET_ARN) ? arn.slice(BUCKET_ARN.length) : (arn ?? '');
}

export function toConfiguration(form: ReplicationForm): ReplicationConfiguration {
  return {
    Role: form.role.trim(),
    Rules: form.rules.map((r): ReplicationRule => {
      const rule: ReplicationRule = { Status: r.status, Destination: { Bucket: bucketArn(r.destinationBucket) } };
      if (r.id.trim()) rule.ID = r.id.trim();
      const dest = rule.Destination!;
      if (r.destinationAccount.trim()) dest.Account = r.destinationAccount.trim();
      if (r.ownerOverride) dest.AccessControlTranslation = { Owner: 'Destination' };
      if (r.storageClass) dest.StorageClass = r.storageClass as NonNullable<typeof dest.StorageClass>;
      if (r.replicaKmsKeyId.trim()) dest.EncryptionConfiguration = { ReplicaKmsKeyID: r.replicaKmsKeyId.trim() };
      if (r.rtc) {
        dest.ReplicationTime = { Status: 'Enabled', Time: { Minutes: 15 } };
        dest.Metrics = { Status: 'Enabled', EventThreshold: { Minutes: 15 } };
      }
      if (r.sseKms || r.replicaModifications) {
        rule.SourceSelectionCriteria = {};
        if (r.sseKms) rule.SourceSelectionCriteria.SseKmsEncryptedObjects = { Status: 'Enabled' };
        if (r.replicaModifications) rule.SourceSelectionCriteria.ReplicaModifications = { Status: 'Enabled' };
      }
      if (r.schema === 'V1') {
        rule.Prefix = r.prefix;
        return rule;
      }
      if (r.priority.trim() !== '') rule.Priority = Number(r.priority);
      const tags = r.tags.filter((t) => t.key !== '').map((t) => ({ Key: t.key, Value: t.value }));
      if (tags.length === 0) rule.Filter = r.prefix ? { Prefix: r.prefix } : {};
      else if (tags.length === 1 && !r.prefix) rule.Filter = { Tag: tags[0]! };
      else rule.Filter = { And: { ...(r.prefix ? { Prefix: r.prefix } : {}), Tags: tags } };
      rule.DeleteMarkerReplication = { Status: r.deleteMarkers ? 'Enabled' : 'Disabled' };
      return rule;
    }),
  };
}

export function fromConfiguration(c: ReplicationConfiguration | undefined): ReplicationForm {
  if (!c) return { role: '', rules: [] };
  return {
    role: c.Role ?? '',
    rules: (c.Rules ?? []).map((r, i): RuleForm => {
      const v2 = r.Filter !== undefined || r.Priority !== undefined || r.DeleteMarkerReplication !== undefined;
      const f = r.Filter;
      const tags = f?.Tag ? [f.Tag] : (f?.And?.Tags ?? []);
      return {
        ...emptyRule(i + 1, v2 ? 'V2' : 'V1'),
        id: r.ID ?? '',
        status: r.Status === 'Disabled' ? 'Disabled' : 'Enabled',
        priority: r.Priority !== undefined ? String(r.Priority) : '',
        prefix: (v2 ? (f?.Prefix ?? f?.And?.Prefix) : r.Prefix) ?? '',
        tags: tags.map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
        deleteMarkers: r.DeleteMarkerReplication?.Status === 'Enabled',
        destinationBucket: bucketName(r.Destination?.Bucket),
        destinationAccount: r.Destination?.Account ?? '',
        ownerOverride: r.Destination?.AccessControlTranslation?.Owner === 'Destination',
        storageClass: r.Destination?.StorageClass ?? '',
        sseKms: r.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status === 'Enabled',
        replicaModifications: r.SourceSelectionCriteria?.ReplicaModifications?.Status === 'Enabled',
        replicaKmsKeyId: r.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID ?? '',
        rtc: r.Destination?.ReplicationTime?.Status === 'Enabled',
      };
    }),
  };
}
