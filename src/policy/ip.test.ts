import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrContains, parseCidr, parseIp } from './ip.js';

function inRange(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  assert.ok(c, `cidr ${cidr} parses`);
  assert.ok(a, `ip ${ip} parses`);
  return cidrContains(c, a);
}

describe('IP ranges', () => {
  const cases: [string, string, boolean][] = [
    ['203.0.113.0/24', '203.0.113.5', true],
    ['203.0.113.0/24', '203.0.114.5', false],
    ['203.0.113.7', '203.0.113.7', true],
    ['203.0.113.7', '203.0.113.8', false],
    ['203.0.113.77/24', '203.0.113.1', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['192.168.1.128/25', '192.168.1.127', false],
    ['192.168.1.128/25', '192.168.1.200', true],
    ['2001:DB8::/32', '2001:db8:1234::1', true],
    ['2001:DB8::/64', '2001:db8:0:1::1', false],
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', true],
    ['::/0', '::1', true],
    ['::1/128', '::1', true],
    ['::ffff:0:0/96', '::ffff:1.2.3.4', true],
    ['1.2.3.0/24', '::ffff:1.2.3.4', true],
    ['1.2.3.0/24', '2001:db8::1', false],
    ['2001:db8::/32', '1.2.3.4', false],
    ['fe80::/10', 'fe80::1:2:3:4', true],
  ];
  for (const [cidr, ip, want] of cases) it(`${ip} in ${cidr}: ${want}`, () => assert.equal(inRange(cidr, ip), want));

  it('rejects malformed addresses and ranges', () => {
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '12345::', ':::', 'g::1', '1:2:3:4:5:6:7:8:9', '']) {
      assert.equal(parseIp(bad), undefined, bad);
    }
    for (const bad of ['1.2.3.4/33', '::/129', '1.2.3.4/', '1.2.3.4/x', '1.2.3.4/8/9']) assert.equal(parseCidr(bad), undefined, bad);
  });

  it('IPv4 containment agrees with a plain integer mask (property)', () => {
    const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(octets, octets, fc.integer({ min: 0, max: 32 }), (net, addr, prefix) => {
        const toInt = (o: number[]): number => o.reduce((a, b) => a * 256 + b, 0);
        const mask = prefix === 0 ? 0 : Number((0xffffffffn << BigInt(32 - prefix)) & 0xffffffffn);
        const want = ((toInt(net) & mask) >>> 0) === ((toInt(addr) & mask) >>> 0);
        return inRange(`${net.join('.')}/${prefix}`, addr.join('.')) === want;
      }),
    );
  });
});
