import { describe, expect, it } from 'vitest';
import { checkJson, checkPolicy, position } from './json-check';

describe('JSON and policy checks shown in the editors', () => {
  it('places a JSON syntax error at its line and column', () => {
    expect(position('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    const p = checkJson('{\n  "a": 1,\n  "b": }');
    expect(p?.line).toBe(3);
    expect(p?.column).toBeGreaterThan(1);
    expect(checkJson('{"ok": true}')).toBeUndefined();
  });

  it("gives IAM's MalformedPolicyDocument messages for the policy's kind", () => {
    const identity = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] });
    expect(checkPolicy(identity, 'identity')?.message).toBe('Policy statement must contain resources.');
    const resource = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] });
    expect(checkPolicy(resource, 'resource')?.message).toBe('Missing required field Principal');
    expect(checkPolicy(resource, 'identity')).toBeUndefined();
    expect(checkPolicy('{"Version": "2012-10-17", "Statement": [', 'identity')?.message).toMatch(/^This policy contains invalid Json/);
    expect(checkPolicy('  ', 'trust')?.message).toBe('The policy is empty.');
  });
});

describe('syntax error offsets', () => {
  it('agrees with JSON.parse on what is valid, and points at the first bad character', async () => {
    const { syntaxErrorOffset } = await import('./json-check');
    for (const ok of ['{}', '[]', '0', '-1.5e3', '"a\\u00e9\\n"', '{"a": [1, true, null, {"b": "c"}]}', ' \n{ } ']) expect(syntaxErrorOffset(ok), ok).toBeUndefined();
    expect(syntaxErrorOffset('{"a": }')).toBe(6);
    expect(syntaxErrorOffset('[1, 2,]')).toBe(6);
    expect(syntaxErrorOffset('{"a" 1}')).toBe(5);
    expect(syntaxErrorOffset('{"a": tru}')).toBe(9);
    expect(syntaxErrorOffset('[')).toBe(1);
    expect(syntaxErrorOffset('{} x')).toBe(3);
    expect(syntaxErrorOffset('"\\q"')).toBe(2);
  });
});
