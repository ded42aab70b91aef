import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDate } from './conditions.js';
import { decide, named, request, sessionOf, userOf } from './testkit.js';
import type { ConditionValue, Principal } from './types.js';

const alice = userOf('alice', '000000000000', '/', { Team: 'blue', prefix: 'x*' });

/** True when an identity policy allowing s3:GetObject under `condition` allows the request. */
function holds(
  condition: object,
  context: Record<string, ConditionValue>,
  opts: { version?: string | null; principal?: Principal } = {},
): boolean {
  const version = opts.version === undefined ? '2012-10-17' : opts.version;
  const doc: Record<string, unknown> = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: condition } };
  if (version !== null) doc['Version'] = version;
  const d = decide({
    request: request(opts.principal ?? alice, 's3:GetObject', 'arn:aws:s3:::b/k', context),
    identityPolicies: [named('p', 'identity', doc)],
  });
  return d.outcome === 'Allow';
}

type Row = [string, object, Record<string, ConditionValue>, boolean];

function table(title: string, rows: Row[], opts: { version?: string | null; principal?: Principal } = {}): void {
  describe(title, () => {
    for (const [name, condition, context, want] of rows) {
      it(`${name} -> ${want}`, () => assert.equal(holds(condition, context, opts), want));
    }
  });
}

table('String operators', [
  ['StringEquals equal', { StringEquals: { 's3:prefix': 'home/' } }, { 's3:prefix': 'home/' }, true],
  ['StringEquals is case-sensitive', { StringEquals: { 's3:prefix': 'home/' } }, { 's3:prefix': 'HOME/' }, false],
  ['StringEquals several values: OR', { StringEquals: { 's3:prefix': ['a/', 'b/'] } }, { 's3:prefix': 'b/' }, true],
  ['StringEquals missing key', { StringEquals: { 's3:prefix': 'a/' } }, {}, false],
  ['StringNotEquals none of the values', { StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }, { 's3:prefix': 'c/' }, true],
  ['StringNotEquals one of the values', { StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }, { 's3:prefix': 'b/' }, false],
  ['StringNotEquals missing key', { StringNotEquals: { 's3:prefix': 'a/' } }, {}, true],
  ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 's3:prefix': 'Home/' } }, { 's3:prefix': 'hOME/' }, true],
  ['StringNotEqualsIgnoreCase', { StringNotEqualsIgnoreCase: { 's3:prefix': 'Home/' } }, { 's3:prefix': 'hOME/' }, false],
  ['StringLike *', { StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/alice/x' }, true],
  ['StringLike ?', { StringLike: { 's3:prefix': 'h?me' } }, { 's3:prefix': 'hime' }, true],
  ['StringLike is case-sensitive', { StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'Home/x' }, false],
  ['StringLike * spans ":" and "/"', { StringLike: { 'aws:SourceArn': 'arn:*' } }, { 'aws:SourceArn': 'arn:aws:s3:::b/k' }, true],
  ['StringNotLike', { StringNotLike: { 's3:prefix': ['home/*', 'tmp/*'] } }, { 's3:prefix': 'etc/x' }, true],
  ['StringNotLike matching', { StringNotLike: { 's3:prefix': ['home/*', 'tmp/*'] } }, { 's3:prefix': 'tmp/x' }, false],
  ['key names are case-insensitive', { StringEquals: { 'AWS:SourceVpce': 'v' } }, { 'aws:sourcevpce': 'v' }, true],
  ['suffix keys are case-insensitive as a whole', { StringEquals: { 'kms:EncryptionContext:AWS:S3:ARN': 'x' } }, { 'kms:EncryptionContext:aws:s3:arn': 'x' }, true],
  ['tag keys are case-insensitive', { StringEquals: { 'aws:ResourceTag/Project': 'p' } }, { 'aws:resourcetag/project': 'p' }, true],
  ['multivalued request, positive: any element', { StringEquals: { 'aws:TagKeys': 'b' } }, { 'aws:TagKeys': ['a', 'b'] }, true],
  ['multivalued request, negated: no element may match', { StringNotEquals: { 'aws:TagKeys': 'b' } }, { 'aws:TagKeys': ['a', 'b'] }, false],
  ['empty multivalued request counts as missing', { StringEquals: { 'aws:TagKeys': 'b' } }, { 'aws:TagKeys': [] }, false],
]);

table('IfExists', [
  ['StringLikeIfExists missing', { StringLikeIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } }, {}, true],
  ['StringLikeIfExists present and matching', { StringLikeIfExists: { 's3:x-amz-server-side-encryption': ['aws:kms', 'AES256'] } }, { 's3:x-amz-server-side-encryption': 'AES256' }, true],
  ['StringLikeIfExists present, not matching', { StringLikeIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } }, { 's3:x-amz-server-side-encryption': 'aws:kms:dsse' }, false],
  ['StringNotEqualsIfExists missing', { StringNotEqualsIfExists: { 's3:prefix': 'a' } }, {}, true],
  ['NumericLessThanIfExists missing', { NumericLessThanIfExists: { 's3:max-keys': '10' } }, {}, true],
  ['NumericLessThanIfExists present', { NumericLessThanIfExists: { 's3:max-keys': '10' } }, { 's3:max-keys': '20' }, false],
  ['BoolIfExists missing', { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }, {}, true],
  ['ForAnyValue with IfExists, missing key (IfExists wins)', { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'a' } }, {}, true],
]);

table('Numeric operators', [
  ['NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['NumericEquals decimal forms', { NumericEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10.0' }, true],
  ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': ['10', '20'] } }, { 's3:max-keys': '15' }, true],
  ['NumericLessThan below', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '5' }, true],
  ['NumericLessThan equal', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, false],
  ['NumericLessThanEquals equal', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': '1.5' } }, { 's3:max-keys': '2' }, true],
  ['NumericGreaterThanEquals below', { NumericGreaterThanEquals: { 's3:max-keys': '3' } }, { 's3:max-keys': '2' }, false],
  ['NumericLessThan, not a number in the request', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' }, false],
  ['NumericNotEquals, not a number: comparison cannot be made', { NumericNotEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': 'ten' }, false],
  ['NumericLessThan missing key', { NumericLessThan: { 's3:max-keys': '10' } }, {}, false],
  ['NumericNotEquals missing key', { NumericNotEquals: { 's3:max-keys': '10' } }, {}, true],
]);

table('Date operators', [
  ['DateGreaterThan ISO', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2021-06-01T12:00:00Z' }, true],
  ['DateLessThan ISO', { DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2021-06-01T12:00:00Z' }, false],
  ['DateLessThan epoch seconds in the policy', { DateLessThan: { 'aws:CurrentTime': 1700000000 } }, { 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, true],
  ['DateEquals ISO vs epoch', { DateEquals: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' } }, { 'aws:TokenIssueTime': '1577836800' }, true],
  ['DateEquals with offset', { DateEquals: { 'aws:TokenIssueTime': '2020-01-01T02:00:00+02:00' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, true],
  ['DateNotEquals', { DateNotEquals: { 'aws:TokenIssueTime': '2020-01-01' } }, { 'aws:TokenIssueTime': '2020-01-02T00:00:00Z' }, true],
  ['DateGreaterThanEquals same instant, fractional seconds', { DateGreaterThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00.000Z' } }, { 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, true],
  ['DateLessThanEquals, not a date in the request', { DateLessThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:CurrentTime': 'yesterday' }, false],
  ['DateGreaterThan missing key', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, {}, false],
]);

table('Bool, Binary, Null', [
  ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true],
  ['Bool is case-insensitive', { Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'TRUE' }, true],
  ['Bool mismatch', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' }, false],
  ['Bool missing', { Bool: { 'aws:SecureTransport': 'true' } }, {}, false],
  ['BinaryEquals same bytes', { BinaryEquals: { 'aws:x': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { 'aws:x': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, true],
  ['BinaryEquals other bytes', { BinaryEquals: { 'aws:x': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }, { 'aws:x': 'b3RoZXI=' }, false],
  ['Null true, key missing', { Null: { 'aws:TokenIssueTime': 'true' } }, {}, true],
  ['Null true, key present', { Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, false],
  ['Null false, key present', { Null: { 'aws:TokenIssueTime': false } }, { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, true],
  ['Null false, key missing', { Null: { 'aws:TokenIssueTime': 'false' } }, {}, false],
]);

table('IP operators', [
  ['IpAddress in range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '203.0.113.5' }, true],
  ['IpAddress several ranges: OR', { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } }, { 'aws:SourceIp': '203.0.113.5' }, true],
  ['IpAddress out of range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '198.51.100.1' }, false],
  ['IpAddress bare IP', { IpAddress: { 'aws:SourceIp': '203.0.113.5' } }, { 'aws:SourceIp': '203.0.113.5' }, true],
  ['IpAddress IPv6', { IpAddress: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' } }, { 'aws:SourceIp': '2001:db8:1234:5678::42' }, true],
  ['NotIpAddress in range', { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8::/32'] } }, { 'aws:SourceIp': '2001:db8::1' }, false],
  ['NotIpAddress out of range', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': '198.51.100.1' }, true],
  ['NotIpAddress missing key', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, {}, true],
  ['IpAddress missing key', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, {}, false],
  ['IpAddress, request value not an IP', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': 'localhost' }, false],
]);

table('ARN operators', [
  ['ArnLike', { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::src-bkt' }, true],
  ['ArnEquals is the same as ArnLike', { ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::src-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::src-bkt' }, true],
  ['ArnLike is case-sensitive', { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::SRC-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::src-bkt' }, false],
  ['ArnLike account wildcard', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/r' } }, { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/r' }, true],
  ['ArnLike: * stays inside the account part', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/r' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:2:role/r' }, false],
  ['StringLike: the same * crosses the colon', { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/r' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:2:role/r' }, true],
  ['ArnNotLike', { ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::src-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::dst' }, true],
  ['ArnNotEquals matching', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:s3:::dst' } }, { 'aws:SourceArn': 'arn:aws:s3:::dst' }, false],
  ['ArnEquals missing', { ArnEquals: { 'aws:SourceArn': 'arn:aws:s3:::dst' } }, {}, false],
  ['ArnNotEquals missing', { ArnNotEquals: { 'aws:SourceArn': 'arn:aws:s3:::dst' } }, {}, true],
]);

table('Set qualifiers on multivalued keys', [
  ['ForAnyValue: one request value in the set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['b', 'c'] }, true],
  ['ForAnyValue: none in the set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['c'] }, false],
  ['ForAnyValue: missing key', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } }, {}, false],
  ['ForAnyValue: empty set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } }, { 'aws:TagKeys': [] }, false],
  ['ForAllValues: subset', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['a'] }, true],
  ['ForAllValues: one outside', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } }, { 'aws:TagKeys': ['a', 'c'] }, false],
  ['ForAllValues: missing key', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } }, {}, true],
  ['ForAllValues: empty set', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } }, { 'aws:TagKeys': [] }, true],
  ['ForAllValues:StringLike', { 'ForAllValues:StringLike': { 'aws:TagKeys': 'dept-*' } }, { 'aws:TagKeys': ['dept-a', 'dept-b'] }, true],
  ['ForAnyValue:StringNotEquals: some value outside', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'a' } }, { 'aws:TagKeys': ['a', 'b'] }, true],
  ['ForAnyValue:StringNotEquals: all inside', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'a' } }, { 'aws:TagKeys': ['a'] }, false],
  ['ForAllValues:StringNotLike', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'secret*' } }, { 'aws:TagKeys': ['a', 'secretx'] }, false],
  ['single-valued request value under ForAnyValue', { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'aws:s3:arn' } }, { 'kms:EncryptionContextKeys': 'aws:s3:arn' }, true],
]);

table('AND across operators and keys', [
  ['all hold', { StringEquals: { 's3:prefix': 'a', 's3:delimiter': '/' }, NumericLessThan: { 's3:max-keys': 10 } }, { 's3:prefix': 'a', 's3:delimiter': '/', 's3:max-keys': '5' }, true],
  ['one key fails', { StringEquals: { 's3:prefix': 'a', 's3:delimiter': '/' } }, { 's3:prefix': 'a', 's3:delimiter': '|' }, false],
  ['one operator fails', { StringEquals: { 's3:prefix': 'a' }, NumericLessThan: { 's3:max-keys': 10 } }, { 's3:prefix': 'a', 's3:max-keys': '50' }, false],
]);

table('Policy variables in condition values (2012-10-17)', [
  ['${aws:username}', { StringLike: { 's3:prefix': '${aws:username}/*' } }, { 's3:prefix': 'alice/docs' }, true],
  ['${aws:username} other user', { StringLike: { 's3:prefix': '${aws:username}/*' } }, { 's3:prefix': 'bob/docs' }, false],
  ['${aws:PrincipalTag/team} (tag key case-insensitive)', { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } }, { 'aws:ResourceTag/team': 'blue' }, true],
  ['${aws:PrincipalAccount}', { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } }, { 'aws:ResourceAccount': '000000000000' }, true],
  ['any context key', { StringEquals: { 's3:prefix': '${aws:SourceVpc}' } }, { 's3:prefix': 'vpc-1', 'aws:SourceVpc': 'vpc-1' }, true],
  ['unresolvable: positive comparison fails', { StringEquals: { 's3:prefix': '${aws:PrincipalTag/missing}' } }, { 's3:prefix': '' }, false],
  ['unresolvable: negated comparison fails too', { StringNotEquals: { 's3:prefix': '${aws:PrincipalTag/missing}' } }, { 's3:prefix': 'x' }, false],
  ['unresolvable but another value matches', { StringEquals: { 's3:prefix': ['${aws:PrincipalTag/missing}', 'x'] } }, { 's3:prefix': 'x' }, true],
  ["default value", { StringEquals: { 's3:prefix': "${aws:PrincipalTag/missing, 'company-wide'}" } }, { 's3:prefix': 'company-wide' }, true],
  ['substituted value is literal, not a wildcard', { StringLike: { 's3:prefix': '${aws:PrincipalTag/prefix}' } }, { 's3:prefix': 'xyz' }, false],
  ['substituted value matches itself', { StringLike: { 's3:prefix': '${aws:PrincipalTag/prefix}' } }, { 's3:prefix': 'x*' }, true],
  ['${*} is a literal star', { StringLike: { 's3:prefix': 'a${*}b' } }, { 's3:prefix': 'a*b' }, true],
  ['${*} does not act as a wildcard', { StringLike: { 's3:prefix': 'a${*}b' } }, { 's3:prefix': 'axxb' }, false],
  ['${?} and ${$}', { StringEquals: { 's3:prefix': '${?}${$}' } }, { 's3:prefix': '?$' }, true],
  ['ArnLike with variable', { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::${aws:username}-*' } }, { 'aws:SourceArn': 'arn:aws:s3:::alice-bkt' }, true],
  ['Bool with variable', { Bool: { 'aws:SecureTransport': '${aws:x}' } }, { 'aws:SecureTransport': 'true', 'aws:x': 'TRUE' }, true],
  ['no variables in Numeric values', { NumericEquals: { 's3:max-keys': '${aws:x}' } }, { 's3:max-keys': '5', 'aws:x': '5' }, false],
]);

table('Policy variables without Version are literal text', [
  ['literal ${aws:username}', { StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': '${aws:username}' }, true],
  ['not substituted', { StringEquals: { 's3:prefix': '${aws:username}' } }, { 's3:prefix': 'alice' }, false],
], { version: null });

const s1 = sessionOf('replication-role', 's1', '000000000000', '/service/');
table('Global keys derived from a session principal', [
  ['aws:PrincipalArn is the role ARN', { StringEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:role/service/replication-role' } }, {}, true],
  ['aws:PrincipalType', { StringEquals: { 'aws:PrincipalType': 'AssumedRole' } }, {}, true],
  ['aws:userid', { StringLike: { 'aws:userid': 'AROA*:s1' } }, {}, true],
  ['aws:username is absent for sessions', { Null: { 'aws:username': 'true' } }, {}, true],
  ['aws:PrincipalAccount', { StringEquals: { 'aws:PrincipalAccount': '000000000000' } }, {}, true],
  ['context value wins over the derived one', { StringEquals: { 'aws:PrincipalAccount': '999999999999' } }, { 'aws:principalaccount': '999999999999' }, true],
], { principal: s1 });

table('Global keys derived from a user principal', [
  ['aws:username', { StringEquals: { 'aws:username': 'alice' } }, {}, true],
  ['aws:PrincipalArn', { StringEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/alice' } }, {}, true],
  ['aws:PrincipalType', { StringEquals: { 'aws:PrincipalType': 'User' } }, {}, true],
  ['aws:PrincipalTag/Team', { StringEquals: { 'aws:PrincipalTag/Team': 'blue' } }, {}, true],
]);

describe('parseDate', () => {
  it('reads ISO 8601 as UTC unless an offset is given, and epoch seconds', () => {
    assert.equal(parseDate('2020-01-01T00:00:00Z'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01T00:00:00'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('2020-01-01T01:00:00+0100'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('1577836800'), Date.UTC(2020, 0, 1));
    assert.equal(parseDate('not a date'), undefined);
  });
});
