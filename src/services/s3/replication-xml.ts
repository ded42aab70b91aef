/** ReplicationConfiguration XML ⇄ model (reference §1.2; element order as in the model). */
import type { ReplicationConfiguration, ReplicationDestination, ReplicationFilter, ReplicationRule, RuleStatus } from '../../replication/config.js';
import { child, children, childNames, malformedXml, parseXml, text, token, type ParsedXml, type XmlObject } from '../protocol/xml.js';

const RULE_ELEMENTS = new Set([
  'ID', 'Priority', 'Prefix', 'Filter', 'Status', 'SourceSelectionCriteria', 'ExistingObjectReplication', 'Destination', 'DeleteMarkerReplication',
]);
const DESTINATION_ELEMENTS = new Set([
  'Bucket', 'Account', 'StorageClass', 'AccessControlTranslation', 'EncryptionConfiguration', 'ReplicationTime', 'Metrics',
]);
const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE',
  'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_ONTAP',
]);

function status(node: ParsedXml | undefined, name = 'Status'): RuleStatus | undefined {
  if (!node) return undefined;
  const s = token(node, name);
  // Enums are case-sensitive: anything but exactly Enabled/Disabled fails the schema.
  if (s !== 'Enabled' && s !== 'Disabled') throw malformedXml();
  return s;
}

function requiredStatus(node: ParsedXml | undefined): RuleStatus | undefined {
  return node ? status(node) : undefined;
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw malformedXml();
  return Number(value);
}

function parseTag(node: ParsedXml): { key: string; value: string } {
  const key = text(node, 'Key');
  const value = text(node, 'Value');
  if (key === undefined || value === undefined) throw malformedXml();
  return { key, value };
}

function parseFilter(node: ParsedXml): ReplicationFilter {
  const names = childNames(node);
  if (names.length === 0) return { tags: [], form: 'Empty' };
  // A Filter holds exactly one of Prefix, Tag, And.
  if (names.length > 1) throw malformedXml();
  const [name] = names;
  if (name === 'Prefix') return { prefix: text(node, 'Prefix') ?? '', tags: [], form: 'Prefix' };
  if (name === 'Tag') return { tags: [parseTag(child(node, 'Tag')!)], form: 'Tag' };
  if (name === 'And') {
    const and = child(node, 'And')!;
    const f: ReplicationFilter = { tags: children(and, 'Tag').map(parseTag), form: 'And' };
    const prefix = text(and, 'Prefix');
    if (prefix !== undefined) f.prefix = prefix;
    return f;
  }
  throw malformedXml();
}

function parseDestination(node: ParsedXml): ReplicationDestination {
  for (const n of childNames(node)) if (!DESTINATION_ELEMENTS.has(n)) throw malformedXml();
  const bucket = text(node, 'Bucket');
  if (!bucket) throw malformedXml();
  const d: ReplicationDestination = { bucket };
  const account = text(node, 'Account');
  if (account !== undefined) d.account = account;
  const storageClass = token(node, 'StorageClass');
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) throw malformedXml();
    d.storageClass = storageClass;
  }
  const act = child(node, 'AccessControlTranslation');
  if (act) {
    if (token(act, 'Owner') !== 'Destination') throw malformedXml();
    d.accessControlTranslation = { owner: 'Destination' };
  }
  const enc = child(node, 'EncryptionConfiguration');
  if (enc) {
    const id = text(enc, 'ReplicaKmsKeyID');
    if (id !== undefined && id !== '') d.replicaKmsKeyId = id;
  }
  const rt = child(node, 'ReplicationTime');
  if (rt) {
    const s = status(rt)!;
    const time = child(rt, 'Time');
    d.replicationTime = { status: s };
    const minutes = time ? integer(token(time, 'Minutes')) : undefined;
    if (minutes !== undefined) d.replicationTime.minutes = minutes;
  }
  const metrics = child(node, 'Metrics');
  if (metrics) {
    d.metrics = { status: status(metrics)! };
    const threshold = child(metrics, 'EventThreshold');
    const minutes = threshold ? integer(token(threshold, 'Minutes')) : undefined;
    if (minutes !== undefined) d.metrics.eventThresholdMinutes = minutes;
  }
  return d;
}

function parseRule(node: ParsedXml): ReplicationRule {
  for (const n of childNames(node)) if (!RULE_ELEMENTS.has(n)) throw malformedXml();
  const destination = child(node, 'Destination');
  if (!destination) throw malformedXml();
  const ruleStatus = status(node);
  if (!ruleStatus) throw malformedXml();
  const rule: ReplicationRule = { id: text(node, 'ID') ?? '', status: ruleStatus, destination: parseDestination(destination) };
  const priority = integer(token(node, 'Priority'));
  if (priority !== undefined) rule.priority = priority;
  const prefix = text(node, 'Prefix');
  const filter = child(node, 'Filter');
  if (prefix !== undefined && filter !== undefined) throw malformedXml();
  if (prefix !== undefined) rule.prefix = prefix;
  if (filter !== undefined) rule.filter = parseFilter(filter);
  const ssc = child(node, 'SourceSelectionCriteria');
  if (ssc) {
    const sse = requiredStatus(child(ssc, 'SseKmsEncryptedObjects'));
    if (sse) rule.sseKmsEncryptedObjects = sse;
    const mods = requiredStatus(child(ssc, 'ReplicaModifications'));
    if (mods) rule.replicaModifications = mods;
  }
  const existing = requiredStatus(child(node, 'ExistingObjectReplication'));
  if (existing) rule.existingObjectReplication = existing;
  const dmr = requiredStatus(child(node, 'DeleteMarkerReplication'));
  if (dmr) rule.deleteMarkerReplication = dmr;
  return rule;
}

export function parseReplicationXml(body: string): ReplicationConfiguration {
  const { root, value } = parseXml(body);
  if (root !== 'ReplicationConfiguration') throw malformedXml();
  const role = text(value, 'Role');
  if (!role) throw malformedXml();
  return { role, rules: children(value, 'Rule').map(parseRule) };
}

function filterXml(f: ReplicationFilter): XmlObject {
  const tag = (t: { key: string; value: string }) => ({ Key: t.key, Value: t.value });
  switch (f.form) {
    case 'Empty':
      return {};
    case 'Prefix':
      return { Prefix: f.prefix ?? '' };
    case 'Tag':
      return { Tag: tag(f.tags[0]!) };
    case 'And': {
      const and: XmlObject = {};
      if (f.prefix !== undefined) and.Prefix = f.prefix;
      and.Tag = f.tags.map(tag);
      return { And: and };
    }
  }
}

function destinationXml(d: ReplicationDestination): XmlObject {
  const x: XmlObject = { Bucket: d.bucket };
  if (d.account !== undefined) x.Account = d.account;
  if (d.storageClass !== undefined) x.StorageClass = d.storageClass;
  if (d.accessControlTranslation) x.AccessControlTranslation = { Owner: d.accessControlTranslation.owner };
  if (d.replicaKmsKeyId !== undefined) x.EncryptionConfiguration = { ReplicaKmsKeyID: d.replicaKmsKeyId };
  if (d.replicationTime) {
    const rt: XmlObject = { Status: d.replicationTime.status };
    if (d.replicationTime.minutes !== undefined) rt.Time = { Minutes: d.replicationTime.minutes };
    x.ReplicationTime = rt;
  }
  if (d.metrics) {
    const m: XmlObject = { Status: d.metrics.status };
    if (d.metrics.eventThresholdMinutes !== undefined) m.EventThreshold = { Minutes: d.metrics.eventThresholdMinutes };
    x.Metrics = m;
  }
  return x;
}

export function replicationXmlBody(config: ReplicationConfiguration): XmlObject {
  return {
    Role: config.role,
    Rule: config.rules.map((r) => {
      const x: XmlObject = { ID: r.id };
      if (r.priority !== undefined) x.Priority = r.priority;
      if (r.prefix !== undefined) x.Prefix = r.prefix;
      if (r.filter !== undefined) x.Filter = filterXml(r.filter);
      x.Status = r.status;
      if (r.sseKmsEncryptedObjects || r.replicaModifications) {
        const ssc: XmlObject = {};
        if (r.sseKmsEncryptedObjects) ssc.SseKmsEncryptedObjects = { Status: r.sseKmsEncryptedObjects };
        if (r.replicaModifications) ssc.ReplicaModifications = { Status: r.replicaModifications };
        x.SourceSelectionCriteria = ssc;
      }
      if (r.existingObjectReplication) x.ExistingObjectReplication = { Status: r.existingObjectReplication };
      x.Destination = destinationXml(r.destination);
      if (r.deleteMarkerReplication) x.DeleteMarkerReplication = { Status: r.deleteMarkerReplication };
      return x;
    }),
  };
}
