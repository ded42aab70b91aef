/**
 * IPv4/IPv6 addresses and CIDR ranges for IpAddress / NotIpAddress. Addresses are held as bigints so
 * both families share one prefix comparison.
 */

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** Network address (host bits cleared). */
  network: bigint;
  prefix: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const MAPPED_V4_PREFIX = 0xffffn << 32n;

function parseV4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    v = (v << 8n) | BigInt(octet);
  }
  return v;
}

/** Groups of one side of '::' as 16-bit numbers; a trailing dotted IPv4 counts as two groups. */
function parseGroups(s: string, allowV4Tail: boolean): bigint[] | undefined {
  if (s === '') return [];
  const groups = s.split(':');
  const out: bigint[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseV4(g);
      if (v4 === undefined) return undefined;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else if (HEX_GROUP.test(g)) {
      out.push(BigInt(`0x${g}`));
    } else {
      return undefined;
    }
  }
  return out;
}

function parseV6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let groups: bigint[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  } else {
    const all = parseGroups(s, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses a bare IPv4 or IPv6 address. */
export function parseIp(text: string): IpAddress | undefined {
  const s = text.trim();
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (= /32 or /128). Host bits are ignored, as AWS does. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.trim().split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  let prefix = bits;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return undefined;
    prefix = Number(len);
    if (prefix > bits) return undefined;
  }
  const shift = BigInt(bits - prefix);
  return { family: ip.family, network: (ip.value >> shift) << shift, prefix };
}

/** True if `ip` lies in `cidr`. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 ranges. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  let { family, value } = ip;
  if (cidr.family === 4 && family === 6 && value >> 32n === MAPPED_V4_PREFIX >> 32n) {
    family = 4;
    value &= 0xffffffffn;
  }
  if (family !== cidr.family) return false;
  const shift = BigInt((family === 4 ? 32 : 128) - cidr.prefix);
  return value >> shift === cidr.network >> shift;
}
