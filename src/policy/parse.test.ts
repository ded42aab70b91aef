import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, PolicyValidationError } from './parse.js';
import type { PolicyKind } from './types.js';

const allowAll = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
const doc = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const trustStatement = { Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' };

describe('parsePolicy rejects documents IAM rejects', () => {
  const cases: [string, PolicyKind, string, string | RegExp][] = [
    ['not JSON', 'identity', '{"Version":', 'This policy contains invalid Json'],
    ['JSON array at top', 'identity', '[]', 'Syntax errors in policy.'],
    ['unknown top-level field', 'identity', JSON.stringify({ Version: '2012-10-17', Statement: [allowAll], Foo: 1 }), 'Syntax errors in policy.'],
    ['Statement missing', 'identity', JSON.stringify({ Version: '2012-10-17' }), 'Syntax errors in policy.'],
    ['Statement empty', 'identity', doc(), 'Syntax errors in policy.'],
    ['Statement a string', 'identity', JSON.stringify({ Statement: 'x' }), 'Syntax errors in policy.'],
    ['bad Version', 'identity', JSON.stringify({ Version: '2012-10-18', Statement: [allowAll] }), 'Syntax errors in policy.'],
    ['Id not a string', 'identity', JSON.stringify({ Id: 3, Statement: [allowAll] }), 'Syntax errors in policy.'],
    ['unknown statement field', 'identity', doc({ ...allowAll, Resources: '*' }), 'Syntax errors in policy.'],
    ['Effect missing', 'identity', doc({ Action: 's3:*', Resource: '*' }), 'Syntax errors in policy.'],
    ['Effect invalid', 'identity', doc({ ...allowAll, Effect: 'Permit' }), 'Syntax errors in policy.'],
    ['Effect wrong case', 'identity', doc({ ...allowAll, Effect: 'allow' }), 'The policy failed legacy parsing'],
    ['Action and NotAction', 'identity', doc({ ...allowAll, NotAction: 's3:PutObject' }), 'Syntax errors in policy.'],
    ['Resource and NotResource', 'identity', doc({ ...allowAll, NotResource: 'arn:aws:s3:::b' }), 'Syntax errors in policy.'],
    ['no Action', 'identity', doc({ Effect: 'Allow', Resource: '*' }), 'Policy statement must contain actions.'],
    ['empty Action list', 'identity', doc({ Effect: 'Allow', Action: [], Resource: '*' }), 'Policy statement must contain actions.'],
    ['Action a number', 'identity', doc({ Effect: 'Allow', Action: 3, Resource: '*' }), 'Syntax errors in policy.'],
    ['no Resource (identity)', 'identity', doc({ Effect: 'Allow', Action: 's3:*' }), 'Policy statement must contain resources.'],
    ['no Resource (session)', 'session', doc({ Effect: 'Allow', Action: 's3:*' }), 'Policy statement must contain resources.'],
    ['no Resource (boundary)', 'boundary', doc({ Effect: 'Allow', Action: 's3:*' }), 'Policy statement must contain resources.'],
    ['no Resource (bucket policy)', 'resource', doc({ Effect: 'Allow', Principal: '*', Action: 's3:*' }), 'Policy statement must contain resources.'],
    ['Principal in identity policy', 'identity', doc({ ...allowAll, Principal: '*' }), 'Policy document should not specify a principal.'],
    ['NotPrincipal in boundary', 'boundary', doc({ ...allowAll, NotPrincipal: { AWS: '123456789012' } }), 'Policy document should not specify a principal.'],
    ['Resource in trust policy', 'trust', doc({ ...trustStatement, Resource: '*' }), 'Has prohibited field Resource'],
    ['NotResource in trust policy', 'trust', doc({ ...trustStatement, NotResource: '*' }), 'Has prohibited field NotResource'],
    ['no Principal in trust policy', 'trust', doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'Missing required field Principal'],
    ['no Principal in key policy', 'key', doc(allowAll), 'Missing required field Principal'],
    ['no Principal in bucket policy', 'resource', doc(allowAll), 'Missing required field Principal'],
    ['Principal and NotPrincipal', 'resource', doc({ ...allowAll, Principal: '*', NotPrincipal: { AWS: '*' } }), 'Syntax errors in policy.'],
    ['Principal plain ARN string', 'resource', doc({ ...allowAll, Principal: 'arn:aws:iam::123456789012:root' }), 'Syntax errors in policy.'],
    ['Principal partial wildcard', 'resource', doc({ ...allowAll, Principal: { AWS: 'arn:aws:iam::123456789012:user/*' } }), 'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"'],
    ['Principal not an ARN', 'trust', doc({ ...trustStatement, Principal: { AWS: 'bob' } }), 'Invalid principal in policy: "AWS":"bob"'],
    ['Principal unknown type', 'trust', doc({ ...trustStatement, Principal: { User: 'bob' } }), 'Invalid principal in policy: "User":"bob"'],
    ['Service wildcard', 'trust', doc({ ...trustStatement, Principal: { Service: '*' } }), 'Invalid principal in policy: "Service":"*"'],
    ['unknown condition operator', 'identity', doc({ ...allowAll, Condition: { StringEqualz: { 'aws:username': 'a' } } }), /StringEqualz/],
    ['Null with IfExists', 'identity', doc({ ...allowAll, Condition: { NullIfExists: { 'aws:username': 'true' } } }), /NullIfExists/],
    ['condition key without vendor', 'identity', doc({ ...allowAll, Condition: { StringEquals: { username: 'a' } } }), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['condition block not an object', 'identity', doc({ ...allowAll, Condition: { StringEquals: 'a' } }), 'Syntax errors in policy.'],
    ['condition value null', 'identity', doc({ ...allowAll, Condition: { StringEquals: { 'aws:username': null } } }), 'Syntax errors in policy.'],
    ['condition value empty list', 'identity', doc({ ...allowAll, Condition: { StringEquals: { 'aws:username': [] } } }), 'Syntax errors in policy.'],
    ['action without vendor', 'identity', doc({ ...allowAll, Action: 'GetObject' }), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['action with two colons', 'identity', doc({ ...allowAll, Action: 's3:Get:Object' }), 'Actions/Condition can contain only one colon.'],
    ['action bad vendor', 'identity', doc({ ...allowAll, Action: 's 3:GetObject' }), 'Vendor s 3 is not valid'],
    ['resource not an ARN', 'identity', doc({ ...allowAll, Resource: 'my-bucket' }), 'Resource my-bucket must be in ARN format or "*".'],
    ['duplicate Sid', 'identity', doc({ ...allowAll, Sid: 'A' }, { ...allowAll, Sid: 'A' }), 'Statement IDs (SID) in a single policy must be unique.'],
    ['Sid with spaces in IAM policy', 'identity', doc({ ...allowAll, Sid: 'my statement' }), /alpha-numeric/],
    ['Sid not a string', 'identity', doc({ ...allowAll, Sid: 1 }), 'Syntax errors in policy.'],
  ];
  for (const [name, kind, text, message] of cases) {
    it(name, () => {
      assert.throws(
        () => parsePolicy(text, kind),
        (e: unknown) => {
          assert.ok(e instanceof PolicyValidationError, `expected PolicyValidationError, got ${String(e)}`);
          if (typeof message === 'string') assert.equal(e.message, message);
          else assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});

describe('parsePolicy accepts and normalises', () => {
  it('single statement object, single strings -> arrays, Version and Id kept', () => {
    const p = parsePolicy(JSON.stringify({ Version: '2012-10-17', Id: 'x', Statement: allowAll }), 'identity');
    assert.deepEqual(p, {
      version: '2012-10-17',
      id: 'x',
      kind: 'identity',
      statements: [{ index: 0, effect: 'Allow', action: ['s3:GetObject'], resource: ['*'] }],
    });
  });

  it('absent Version means 2008-10-17', () => {
    assert.equal(parsePolicy(JSON.stringify({ Statement: [allowAll] }), 'identity').version, '2008-10-17');
  });

  it('"Principal": "*" becomes { AWS: ["*"] } and principal values become arrays', () => {
    const p = parsePolicy(
      doc(
        { ...allowAll, Principal: '*' },
        { ...allowAll, Principal: { AWS: '123456789012', Service: ['s3.amazonaws.com'] } },
        { ...allowAll, Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::123456789012:user/a/b' } },
      ),
      'resource',
    );
    assert.deepEqual(p.statements[0]!.principal, { AWS: ['*'] });
    assert.deepEqual(p.statements[1]!.principal, { AWS: ['123456789012'], Service: ['s3.amazonaws.com'] });
    assert.deepEqual(p.statements[2]!.notPrincipal, { AWS: ['arn:aws:iam::123456789012:user/a/b'] });
    assert.deepEqual(p.statements.map((s) => s.index), [0, 1, 2]);
  });

  it('condition numbers and booleans become strings; operator and key kept as written', () => {
    const p = parsePolicy(
      doc({
        ...allowAll,
        Condition: {
          NumericLessThan: { 's3:max-keys': 10 },
          Bool: { 'aws:SecureTransport': [true, 'false'] },
          'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'a*' },
        },
      }),
      'identity',
    );
    assert.deepEqual(p.statements[0]!.condition, {
      NumericLessThan: { 's3:max-keys': ['10'] },
      Bool: { 'aws:SecureTransport': ['true', 'false'] },
      'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*'] },
    });
  });

  it('trust policy with Service principal, no Resource', () => {
    const p = parsePolicy(doc(trustStatement), 'trust');
    assert.equal(p.kind, 'trust');
    assert.equal(p.statements[0]!.resource, undefined);
  });

  it('key policy: Sid with spaces, statement without Resource accepted', () => {
    const p = parsePolicy(
      doc({ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*' }),
      'key',
    );
    assert.equal(p.statements[0]!.sid, 'Enable IAM User Permissions');
  });

  it('accepts every principal form of reference §3.2', () => {
    const forms = [
      '*',
      '123456789012',
      'arn:aws:iam::123456789012:root',
      'arn:aws:iam::123456789012:user/path/alice',
      'arn:aws:iam::123456789012:role/path/r',
      'arn:aws:sts::123456789012:assumed-role/r/s1',
      'AIDAJQABLZS4A3QDU576Q',
    ];
    for (const f of forms) parsePolicy(doc({ ...allowAll, Principal: { AWS: f } }), 'resource');
    parsePolicy(doc({ ...allowAll, Principal: { Federated: 'cognito-identity.amazonaws.com' } }), 'resource');
    parsePolicy(doc({ ...allowAll, Principal: { CanonicalUser: '79a59df900b949e55d96a1e698fbaced' } }), 'resource');
  });

  it('accepts every operator family with qualifiers and IfExists', () => {
    const ops = [
      'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
      'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
      'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
      'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
    ];
    const condition: Record<string, object> = { Null: { 'aws:x': 'true' } };
    for (const op of ops) {
      condition[op] = { 'aws:x': '1' };
      condition[`${op}IfExists`] = { 'aws:x': '1' };
      condition[`ForAnyValue:${op}`] = { 'aws:x': '1' };
      condition[`ForAllValues:${op}IfExists`] = { 'aws:x': '1' };
    }
    const p = parsePolicy(doc({ ...allowAll, Condition: condition }), 'identity');
    assert.equal(Object.keys(p.statements[0]!.condition ?? {}).length, 1 + ops.length * 4);
  });

  it('does not share arrays with the input (callers may mutate the result safely)', () => {
    const p = parsePolicy(doc({ ...allowAll, Action: ['s3:A', 's3:B'] }), 'identity');
    p.statements[0]!.action!.push('s3:C');
    assert.deepEqual(parsePolicy(doc({ ...allowAll, Action: ['s3:A', 's3:B'] }), 'identity').statements[0]!.action, ['s3:A', 's3:B']);
  });
});
