/** Advice for denied replication checks: what to change, naming the statement and the condition. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, parsePolicy } from '../policy/index.js';
import type { EvaluationInput } from '../policy/types.js';
import { adviceFor, checkStep } from './explain.js';

const ROLE = 'arn:aws:iam::000000000000:role/crr';
const KEY = 'arn:aws:kms:us-east-2:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const principal = { type: 'AssumedRole' as const, accountId: '000000000000', arn: 'arn:aws:sts::000000000000:assumed-role/crr/s3-replication', roleArn: ROLE };

function input(identity: unknown, context: Record<string, string>, resourcePolicy?: unknown): EvaluationInput {
  const i: EvaluationInput = {
    request: { principal, action: 'kms:Encrypt', resource: KEY, resourceAccount: '000000000000', context },
    identityPolicies: [{ name: 'inline policy perms of role crr', policy: parsePolicy(JSON.stringify(identity), 'identity') }],
  };
  if (resourcePolicy) {
    i.resourcePolicy = { name: `key policy of ${KEY}`, policy: parsePolicy(JSON.stringify(resourcePolicy), 'key') };
    i.resourcePolicyRequired = true;
  }
  return i;
}

const keyPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }] };

describe('replication explain advice', () => {
  it('a condition that limits kms:ViaService to another region is named with both values', () => {
    const identity = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'EncryptReplicas', Effect: 'Allow', Action: 'kms:Encrypt', Resource: KEY, Condition: { StringLike: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } } }],
    };
    const i = input(identity, { 'kms:viaservice': 's3.us-east-2.amazonaws.com' }, keyPolicy);
    const advice = adviceFor(i, evaluate(i))!;
    assert.match(advice, /statement #0 \(Sid "EncryptReplicas"\) of inline policy perms of role crr would allow it, but its condition StringLike limits kms:ViaService to "s3\.us-west-2\.amazonaws\.com"; this request has "s3\.us-east-2\.amazonaws\.com"\./);
    assert.match(advice, new RegExp(`Add kms:Encrypt on ${KEY.replace(/[/.]/g, '\\$&')} to role ${ROLE.replace(/[/.]/g, '\\$&')}`));
  });

  it('a key policy that does not allow the role says so', () => {
    const identity = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: KEY }] };
    const otherKeyPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] };
    const i = input(identity, {}, otherKeyPolicy);
    assert.match(adviceFor(i, evaluate(i))!, /^Key policy of arn:aws:kms:.* must allow kms:Encrypt on .* to arn:aws:iam::000000000000:role\/crr/);
  });

  it('an explicit deny names the statement; an allowed check has no advice', () => {
    const identity = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'kms:*', Resource: '*' },
        { Sid: 'NoEncrypt', Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*' },
      ],
    };
    const i = input(identity, {}, keyPolicy);
    assert.match(adviceFor(i, evaluate(i))!, /^Remove or narrow statement #1 \(Sid "NoEncrypt"\)/);
    const allowed = input({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: KEY }] }, {}, keyPolicy);
    const step = checkStep(allowed, evaluate(allowed));
    assert.equal(step.outcome, 'Allow');
    assert.equal(step.advice, undefined);
    assert.equal(step.stage, 'encrypt the data key under ReplicaKmsKeyID (destination region KMS)');
  });
});
