/** Tag sets of objects and buckets: one validation for the x-amz-tagging header and the Tagging XML body. */
import { ServiceError } from '../../common/errors.js';
import { child, children, malformedXml, parseXml, text } from '../protocol/xml.js';

export const OBJECT_TAG_LIMIT = 10;
export const BUCKET_TAG_LIMIT = 50;
// Letters, digits, white space and + - = . _ : / @ (S3 user guide, tag restrictions).
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}+\-=._:/@]*$/u;

function invalidTag(message: string, key?: string): ServiceError {
  return new ServiceError('InvalidTag', 400, message, key === undefined ? {} : { TagKey: key });
}

/** Validate (key, value) pairs in order; returns them as a record. */
export function validateTags(pairs: [string, string][], limit: number): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (Object.prototype.hasOwnProperty.call(tags, k)) throw invalidTag('Cannot provide multiple Tags with the same key', k);
    if (k.length === 0 || [...k].length > 128 || !TAG_CHARS.test(k)) throw invalidTag('The TagKey you have provided is invalid', k);
    if (k.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:', k);
    if ([...v].length > 256) throw invalidTag('The TagValue you have provided is too long, max 256', k);
    if (!TAG_CHARS.test(v)) throw invalidTag('The TagValue you have provided is invalid', k);
    tags[k] = v;
  }
  if (Object.keys(tags).length > limit) {
    if (limit === OBJECT_TAG_LIMIT) throw new ServiceError('BadRequest', 400, `Object tags cannot be greater than ${limit}`);
    throw invalidTag(`Bucket tag count cannot be greater than ${limit}`);
  }
  return tags;
}

/** `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` → pairs (validated against `limit`). */
export function parseTaggingXml(body: string, limit: number): Record<string, string> {
  const { root, value } = parseXml(body);
  if (root !== 'Tagging') throw malformedXml();
  const set = child(value, 'TagSet');
  if (!set) throw malformedXml();
  const pairs = children(set, 'Tag').map((t): [string, string] => {
    const k = text(t, 'Key');
    const v = text(t, 'Value');
    if (k === undefined || v === undefined) throw malformedXml();
    return [k, v];
  });
  return validateTags(pairs, limit);
}

/** The TagSet element body for a record of tags. */
export function tagSetXml(tags: Record<string, string> | undefined) {
  return { TagSet: { Tag: Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value })) } };
}
