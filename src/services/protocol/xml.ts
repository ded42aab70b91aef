/**
 * XML in and out for the restXml (S3) and awsQuery (IAM, STS) protocols.
 * Output is written by hand (element order matters to AWS shapes and object key order gives it);
 * input is parsed with fast-xml-parser into plain objects whose leaves are strings.
 */
import { EntityDecoder, ENTITY_ACTION } from '@nodable/entities';
import { XMLParser } from 'fast-xml-parser';
import { ServiceError } from '../../common/errors.js';

export type XmlValue = string | number | boolean | undefined | null | Date | XmlObject | XmlSequence | XmlValue[];

/** Elements of different names in one given order (ListObjectVersions interleaves Version and DeleteMarker). */
export class XmlSequence {
  constructor(readonly items: [name: string, value: XmlValue][]) {}
}
export interface XmlObject {
  [name: string]: XmlValue;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
// XML's five, and the C0 controls other than TAB and LF: a parser would refuse most of them and
// turn a CR into LF (a key with CR would come back as another key), so they go out as character
// references, as S3 writes them (`&#x1;`, `&#xD;`). TAB and LF are sent as they are.
const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000B-\u001F]/;
const ESCAPED = /[&<>"'\u0000-\u0008\u000B-\u001F]/g;
const escapeOne = (c: string): string => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;

export function escapeXml(s: string): string {
  // Most values need nothing: test before building a new string (listings escape thousands).
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPED, escapeOne) : s;
}

/** AWS XML timestamps: ISO 8601 with milliseconds, UTC. */
export function xmlDate(d: Date | number): string {
  return new Date(d).toISOString();
}

function writeValue(out: string[], name: string, value: XmlValue): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    // Arrays are flattened: the element repeats (S3's Contents, Rule, Version...).
    for (const v of value) writeValue(out, name, v);
    return;
  }
  if (value instanceof XmlSequence) {
    out.push(`<${name}>`);
    for (const [k, v] of value.items) writeValue(out, k, v);
    out.push(`</${name}>`);
    return;
  }
  if (value instanceof Date) {
    out.push(`<${name}>${xmlDate(value)}</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [k, v] of Object.entries(value)) writeValue(out, k, v);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
}

/** Serialise `body` under the root element `root`. */
export function toXml(root: string, body: XmlObject | XmlSequence, xmlns?: string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(xmlns ? `<${root} xmlns="${xmlns}">` : `<${root}>`);
  if (body instanceof XmlSequence) for (const [k, v] of body.items) writeValue(out, k, v);
  else for (const [k, v] of Object.entries(body)) writeValue(out, k, v);
  out.push(`</${root}>`);
  return out.join('');
}

/**
 * The reader follows XML 1.0 as S3 does, because every real client writes it differently:
 * - every character reference is decoded (`&#34;`, `&#x22;`: Go's encoding/xml writes an ETag's
 *   quotes as `&#34;`); the named entities are XML's five, no more;
 * - whitespace inside a value is data (the key " " and tag values with spaces round-trip); whitespace
 *   between elements is dropped below;
 * - attributes are read (a Grantee's xsi:type) but kept out of the element tree (see `attributes`);
 * - a DOCTYPE is refused: S3 documents declare nothing, and declared entities are the classic
 *   expansion attack;
 * - the document must be well-formed (`parse(text, true)` runs fast-xml-parser's validator).
 */
const ATTR = '@_';
const TEXT = '#text';
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  removeNSPrefix: true,
  processEntities: true,
  entityDecoder: new EntityDecoder({ numericAllowed: true, onInputEntity: () => ENTITY_ACTION.THROW }),
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export type ParsedXml = { [name: string]: ParsedXmlValue };
export type ParsedXmlValue = string | ParsedXml | ParsedXmlValue[];

const attributeTable = new WeakMap<ParsedXml, Record<string, string>>();

/** An element's attributes, namespace prefixes removed (`xsi:type` is `type`); {} if none. */
export function attributes(node: ParsedXml): Record<string, string> {
  return attributeTable.get(node) ?? {};
}

/**
 * fast-xml-parser's raw tree → elements only: attributes move to `attributeTable`, whitespace
 * between child elements goes, other text beside child elements is not S3's schema (MalformedXML).
 * An element with only text (or nothing) is its string.
 */
function normalise(value: unknown): ParsedXmlValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(normalise);
  if (!value || typeof value !== 'object') return String(value ?? '');
  const out: ParsedXml = {};
  const attrs: Record<string, string> = {};
  let textValue: string | undefined;
  let hasChildren = false;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k.startsWith(ATTR)) attrs[k.slice(ATTR.length)] = String(v);
    else if (k === TEXT) textValue = String(v);
    else {
      hasChildren = true;
      out[k] = normalise(v);
    }
  }
  if (!hasChildren) return textValue ?? '';
  if (textValue !== undefined && !isXmlSpace(textValue)) throw malformedXml();
  if (Object.keys(attrs).length > 0) attributeTable.set(out, attrs);
  return out;
}

/**
 * Parse a request body. Returns the root element's name and content. Malformed XML is S3's
 * MalformedXML. An empty element parses as '' — use `child()` to read it as an object.
 */
export function parseXml(text: string): { root: string; value: ParsedXml } {
  // `<!DOCTYPE` is a document type declaration (or text in a CDATA section, which no client writes).
  if (text.includes('<!DOCTYPE')) throw malformedXml();
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch {
    throw malformedXml();
  }
  if (!doc || typeof doc !== 'object') throw malformedXml();
  const entries = Object.entries(doc as Record<string, unknown>).filter(([k]) => k !== TEXT);
  if (entries.length !== 1) throw malformedXml();
  const [root, raw] = entries[0]!;
  if (Array.isArray(raw)) throw malformedXml();
  const value = normalise(raw);
  if (typeof value !== 'string') return { root, value: value as ParsedXml };
  if (!isXmlSpace(value)) throw malformedXml();
  return { root, value: {} };
}

/** Only XML's four whitespace characters (String#trim would also take U+00A0 and others). */
function isXmlSpace(s: string): boolean {
  return /^[ \t\r\n]*$/.test(s);
}

export function malformedXml(): ServiceError {
  return new ServiceError(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** Read a child element as an object ('' for an empty element becomes {}); undefined if absent. */
export function child(node: ParsedXml, name: string): ParsedXml | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && isXmlSpace(v)) return {};
  if (typeof v === 'string' || Array.isArray(v)) throw malformedXml();
  return v;
}

/** Read a child element as text, whitespace kept (xs:string: keys, tag values, ids); undefined if absent. */
export function text(node: ParsedXml, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformedXml();
  return v;
}

/**
 * Read a typed value (a number, boolean, enumeration or date) with surrounding whitespace removed,
 * as XML Schema's whiteSpace="collapse" facet on those types says; undefined if absent.
 */
export function token(node: ParsedXml, name: string): string | undefined {
  return text(node, name)?.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** Read a repeated child element as a list of objects. */
export function children(node: ParsedXml, name: string): ParsedXml[] {
  const v = node[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x === 'string' && isXmlSpace(x)) return {};
    if (typeof x === 'string' || Array.isArray(x)) throw malformedXml();
    return x;
  });
}

/** Element names present in a node (to reject unknown or conflicting elements). */
export function childNames(node: ParsedXml): string[] {
  return Object.keys(node);
}
