/**
 * The bucket lifecycle configuration document: parsed, validated as S3 validates it, stored as
 * JSON and echoed in the model's element order. lifecycle.ts applies it.
 */
import { ServiceError } from '../../common/errors.js';
import { child, children, malformedXml, parseXml, text, token, toXml, type ParsedXml, type XmlObject } from '../protocol/xml.js';
import { S3_XMLNS } from './request-body.js';
import { invalidArgument, invalidRequest } from './s3-errors.js';

export interface LifecycleFilter {
  prefix?: string;
  tags?: Record<string, string>;
  sizeGreaterThan?: number;
  sizeLessThan?: number;
  /** How the filter was written, to echo it: one predicate, an And, or an empty <Filter/>. */
  form: 'empty' | 'prefix' | 'tag' | 'sizeGreaterThan' | 'sizeLessThan' | 'and';
}

export interface LifecycleTransition {
  days?: number;
  date?: string;
  storageClass: string;
}

export interface LifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  /** Legacy rule-level <Prefix> (no Filter). */
  prefix?: string;
  filter?: LifecycleFilter;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  transitions: LifecycleTransition[];
  noncurrentTransitions: { noncurrentDays?: number; newerNoncurrentVersions?: number; storageClass: string }[];
  noncurrentExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteUploadDays?: number;
}

const MAX_RULES = 1000;
const TRANSITION_CLASSES = new Set(['GLACIER', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR']);

function positiveInt(v: string | undefined, message: string, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw malformedXml();
  const n = Number(v);
  if (n <= 0) throw invalidArgument(message, name, v);
  return n;
}

function midnightDate(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw malformedXml();
  if (t % 86_400_000 !== 0) throw invalidArgument("'Date' must be at midnight GMT", 'Date', v);
  return new Date(t).toISOString();
}

function parseTag(node: ParsedXml): [string, string] {
  const k = text(node, 'Key');
  const v = text(node, 'Value');
  if (k === undefined || v === undefined) throw malformedXml();
  return [k, v];
}

function size(node: ParsedXml, name: string): number | undefined {
  const v = token(node, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw malformedXml();
  return Number(v);
}

function parseFilter(node: ParsedXml): LifecycleFilter {
  const names = Object.keys(node);
  if (names.length === 0) return { form: 'empty' };
  if (names.length > 1) throw malformedXml();
  const f: LifecycleFilter = { form: names[0] as LifecycleFilter['form'] };
  switch (names[0]) {
    case 'Prefix':
      f.form = 'prefix';
      f.prefix = text(node, 'Prefix') ?? '';
      return f;
    case 'Tag':
      f.form = 'tag';
      f.tags = Object.fromEntries([parseTag(child(node, 'Tag')!)]);
      return f;
    case 'ObjectSizeGreaterThan':
      f.form = 'sizeGreaterThan';
      f.sizeGreaterThan = size(node, 'ObjectSizeGreaterThan')!;
      return f;
    case 'ObjectSizeLessThan':
      f.form = 'sizeLessThan';
      f.sizeLessThan = size(node, 'ObjectSizeLessThan')!;
      return f;
    case 'And': {
      const and = child(node, 'And')!;
      f.form = 'and';
      const prefix = text(and, 'Prefix');
      if (prefix !== undefined) f.prefix = prefix;
      const tags = children(and, 'Tag').map(parseTag);
      if (tags.length > 0) f.tags = Object.fromEntries(tags);
      const gt = size(and, 'ObjectSizeGreaterThan');
      const lt = size(and, 'ObjectSizeLessThan');
      if (gt !== undefined) f.sizeGreaterThan = gt;
      if (lt !== undefined) f.sizeLessThan = lt;
      return f;
    }
  }
  throw malformedXml();
}

function parseRule(r: ParsedXml, index: number): LifecycleRule {
  const status = token(r, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml();
  const id = text(r, 'ID') ?? `rule-${index + 1}`;
  if (id.length > 255) throw invalidArgument('ID length should not exceed allowed limit of 255', 'ID', id);
  const rule: LifecycleRule = { id, status, transitions: [], noncurrentTransitions: [] };
  const prefix = text(r, 'Prefix');
  const filter = child(r, 'Filter');
  if ((prefix === undefined) === (filter === undefined)) throw malformedXml();
  if (prefix !== undefined) rule.prefix = prefix;
  if (filter) rule.filter = parseFilter(filter);

  const exp = child(r, 'Expiration');
  if (exp) {
    const days = positiveInt(token(exp, 'Days'), "'Days' for Expiration action must be a positive integer", 'Days');
    const date = midnightDate(token(exp, 'Date'));
    const marker = token(exp, 'ExpiredObjectDeleteMarker');
    if (marker !== undefined && marker !== 'true' && marker !== 'false') throw malformedXml();
    if (days !== undefined && date !== undefined) throw malformedXml();
    if (marker !== undefined && (days !== undefined || date !== undefined)) {
      throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.');
    }
    if (days === undefined && date === undefined && marker === undefined) throw malformedXml();
    rule.expiration = {};
    if (days !== undefined) rule.expiration.days = days;
    if (date !== undefined) rule.expiration.date = date;
    if (marker !== undefined) rule.expiration.expiredObjectDeleteMarker = marker === 'true';
  }
  for (const t of children(r, 'Transition')) {
    const storageClass = token(t, 'StorageClass');
    if (!storageClass || !TRANSITION_CLASSES.has(storageClass)) throw malformedXml();
    const tr: LifecycleTransition = { storageClass };
    const days = token(t, 'Days');
    if (days !== undefined) {
      if (!/^\d+$/.test(days)) throw malformedXml();
      if ((storageClass === 'STANDARD_IA' || storageClass === 'ONEZONE_IA') && Number(days) < 30) {
        throw invalidArgument(`'Days' in Transition action must be greater than or equal to 30 for storageClass '${storageClass}'`, 'Days', days);
      }
      tr.days = Number(days);
    }
    const date = midnightDate(token(t, 'Date'));
    if (date !== undefined) tr.date = date;
    if ((tr.days === undefined) === (tr.date === undefined)) throw malformedXml();
    rule.transitions.push(tr);
  }
  for (const t of children(r, 'NoncurrentVersionTransition')) {
    const storageClass = token(t, 'StorageClass');
    if (!storageClass || !TRANSITION_CLASSES.has(storageClass)) throw malformedXml();
    const nt: LifecycleRule['noncurrentTransitions'][number] = { storageClass };
    const days = token(t, 'NoncurrentDays');
    if (days !== undefined) nt.noncurrentDays = Number(days);
    const newer = token(t, 'NewerNoncurrentVersions');
    if (newer !== undefined) nt.newerNoncurrentVersions = Number(newer);
    rule.noncurrentTransitions.push(nt);
  }
  const nce = child(r, 'NoncurrentVersionExpiration');
  if (nce) {
    const days = positiveInt(token(nce, 'NoncurrentDays'), "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", 'NoncurrentDays');
    if (days === undefined) throw malformedXml();
    rule.noncurrentExpiration = { noncurrentDays: days };
    const newer = positiveInt(token(nce, 'NewerNoncurrentVersions'), "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer", 'NewerNoncurrentVersions');
    if (newer !== undefined) rule.noncurrentExpiration.newerNoncurrentVersions = newer;
  }
  const abort = child(r, 'AbortIncompleteMultipartUpload');
  if (abort) {
    const days = positiveInt(token(abort, 'DaysAfterInitiation'), "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", 'DaysAfterInitiation');
    if (days === undefined) throw malformedXml();
    rule.abortIncompleteUploadDays = days;
  }
  if (!rule.expiration && rule.transitions.length === 0 && rule.noncurrentTransitions.length === 0 && !rule.noncurrentExpiration && rule.abortIncompleteUploadDays === undefined) {
    throw invalidRequest('At least one action needs to be specified in a rule');
  }
  const hasTags = rule.filter?.tags !== undefined;
  if (hasTags && rule.expiration?.expiredObjectDeleteMarker) throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Tag filter.');
  if (hasTags && rule.abortIncompleteUploadDays !== undefined) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.');
  return rule;
}

export function parseLifecycleXml(body: string): LifecycleRule[] {
  const { root, value } = parseXml(body);
  if (root !== 'LifecycleConfiguration') throw malformedXml();
  const nodes = children(value, 'Rule');
  if (nodes.length === 0) throw malformedXml();
  if (nodes.length > MAX_RULES) throw invalidRequest(`Lifecycle configuration cannot have more than ${MAX_RULES} rules.`);
  const rules = nodes.map(parseRule);
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw new ServiceError('InvalidArgument', 400, 'Rule ID must be unique. Found same ID for more than one rule', { ArgumentName: 'ID', ArgumentValue: r.id });
    ids.add(r.id);
  }
  return rules;
}

function tagsXml(tags: Record<string, string> | undefined) {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

function filterXml(f: LifecycleFilter): XmlObject {
  switch (f.form) {
    case 'empty':
      return {};
    case 'prefix':
      return { Prefix: f.prefix ?? '' };
    case 'tag':
      return { Tag: tagsXml(f.tags)[0] };
    case 'sizeGreaterThan':
      return { ObjectSizeGreaterThan: f.sizeGreaterThan };
    case 'sizeLessThan':
      return { ObjectSizeLessThan: f.sizeLessThan };
    case 'and':
      return { And: { Prefix: f.prefix, Tag: tagsXml(f.tags), ObjectSizeGreaterThan: f.sizeGreaterThan, ObjectSizeLessThan: f.sizeLessThan } };
  }
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  return toXml(
    'LifecycleConfiguration',
    {
      Rule: rules.map((r) => ({
        Expiration: r.expiration && { Date: r.expiration.date, Days: r.expiration.days, ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker },
        ID: r.id,
        Prefix: r.prefix,
        Filter: r.filter && filterXml(r.filter),
        Status: r.status,
        Transition: r.transitions.map((t) => ({ Date: t.date, Days: t.days, StorageClass: t.storageClass })),
        NoncurrentVersionTransition: r.noncurrentTransitions.map((t) => ({ NoncurrentDays: t.noncurrentDays, StorageClass: t.storageClass, NewerNoncurrentVersions: t.newerNoncurrentVersions })),
        NoncurrentVersionExpiration: r.noncurrentExpiration && { NoncurrentDays: r.noncurrentExpiration.noncurrentDays, NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions },
        AbortIncompleteMultipartUpload: r.abortIncompleteUploadDays !== undefined ? { DaysAfterInitiation: r.abortIncompleteUploadDays } : undefined,
      })),
    },
    S3_XMLNS,
  );
}
