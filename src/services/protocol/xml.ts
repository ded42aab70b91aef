/**
 * XML in and out for the restXml (S3) and awsQuery (IAM, STS) protocols.
 * Output is written by hand (element order matters to AWS shapes and object key order gives it);
 * input is parsed with fast-xml-parser into plain objects whose leaves are strings.
 */
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

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
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

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  processEntities: true,
  ignoreDeclaration: true,
});

export type ParsedXml = { [name: string]: ParsedXmlValue };
export type ParsedXmlValue = string | ParsedXml | ParsedXmlValue[];

/**
 * Parse a request body. Returns the root element's name and content. Malformed XML is S3's
 * MalformedXML. An empty element parses as '' — use `child()` to read it as an object.
 */
export function parseXml(text: string): { root: string; value: ParsedXml } {
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch {
    throw malformedXml();
  }
  if (!doc || typeof doc !== 'object') throw malformedXml();
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length !== 1) throw malformedXml();
  const [root, value] = entries[0]!;
  if (Array.isArray(value)) throw malformedXml();
  return { root, value: value === '' ? {} : (value as ParsedXml) };
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
  if (v === '') return {};
  if (typeof v === 'string' || Array.isArray(v)) throw malformedXml();
  return v;
}

/** Read a child element as text; undefined if absent. */
export function text(node: ParsedXml, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformedXml();
  return v;
}

/** Read a repeated child element as a list of objects. */
export function children(node: ParsedXml, name: string): ParsedXml[] {
  const v = node[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (x === '') return {};
    if (typeof x === 'string' || Array.isArray(x)) throw malformedXml();
    return x;
  });
}

/** Element names present in a node (to reject unknown or conflicting elements). */
export function childNames(node: ParsedXml): string[] {
  return Object.keys(node);
}
