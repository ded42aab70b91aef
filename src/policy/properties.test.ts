/**
 * Property tests: random policies over a small vocabulary of actions, resources, principals and
 * conditions, checked against invariants of IAM evaluation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate } from './evaluate.js';
import { matchAction, matchResource } from './match.js';
import { parsePolicy } from './parse.js';
import { ACCOUNT, ANONYMOUS, OTHER, rootOf, serviceOf, sessionOf, userOf } from './testkit.js';
import type { ConditionValue, EvaluationInput, NamedPolicy, PolicyKind, Principal } from './types.js';

const alice = userOf('alice');
const s1 = sessionOf('app', 's1');
const PRINCIPALS: Principal[] = [alice, userOf('bob', OTHER), s1, sessionOf('app', 's2', OTHER), rootOf(ACCOUNT), rootOf(OTHER), serviceOf('s3.amazonaws.com'), ANONYMOUS];
const ACTIONS = ['s3:GetObject', 's3:PutObject', 'kms:Decrypt', 'sts:AssumeRole'];
const RESOURCES = ['arn:aws:s3:::b/k', 'arn:aws:s3:::alice/k', 'arn:aws:kms:us-east-1:000000000000:key/k'];

const actionPattern = fc.constantFrom('*', 's3:*', 's3:Get*', 'S3:getobject', 'kms:*', 'kms:Decrypt', 's3:?utObject', 'sts:AssumeRole');
const resourcePattern = fc.constantFrom('*', 'arn:aws:s3:::b/*', 'arn:aws:s3:::*', 'arn:aws:kms:*:000000000000:key/*', 'arn:aws:s3:::${aws:username}/*');
const condition = fc.option(
  fc.constantFrom<object>(
    { StringEquals: { 'aws:x': '1' } },
    { StringNotEquals: { 'aws:x': ['1', '3'] } },
    { StringLikeIfExists: { 'aws:x': '2*' } },
    { 'ForAllValues:StringEquals': { 'aws:tags': 'a' } },
    { 'ForAnyValue:StringEquals': { 'aws:tags': ['b', 'c'] } },
    { NumericLessThan: { 'aws:n': 5 } },
    { Null: { 'aws:x': 'true' } },
    { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
  ),
  { nil: undefined },
);
const principalSpec = fc.constantFrom<unknown>('*', { AWS: ACCOUNT }, { AWS: OTHER }, { AWS: alice.arn }, { AWS: s1.roleArn }, { AWS: s1.arn }, { Service: 's3.amazonaws.com' });
const effect = fc.constantFrom('Allow', 'Deny');

type Doc = { Version: string; Statement: Record<string, unknown>[] };

function statementArb(withPrincipal: boolean, eff: fc.Arbitrary<string> = effect): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      Effect: eff,
      notAction: fc.boolean(),
      actions: fc.array(actionPattern, { minLength: 1, maxLength: 2 }),
      notResource: fc.boolean(),
      resources: fc.array(resourcePattern, { minLength: 1, maxLength: 2 }),
      condition,
      principal: principalSpec,
      notPrincipal: fc.boolean(),
    })
    .map((r) => {
      const s: Record<string, unknown> = { Effect: r.Effect };
      // NotAction/NotResource/NotPrincipal are rarer in practice; keep them a minority.
      s[r.notAction && r.Effect === 'Deny' ? 'NotAction' : 'Action'] = r.actions;
      s[r.notResource && r.Effect === 'Deny' ? 'NotResource' : 'Resource'] = r.resources;
      if (r.condition) s['Condition'] = r.condition;
      if (withPrincipal) s[r.notPrincipal && r.Effect === 'Deny' ? 'NotPrincipal' : 'Principal'] = r.principal;
      return s;
    });
}

const docArb = (withPrincipal: boolean): fc.Arbitrary<Doc> =>
  fc.array(statementArb(withPrincipal), { minLength: 1, maxLength: 3 }).map((Statement) => ({ Version: '2012-10-17', Statement }));

const contextArb: fc.Arbitrary<Record<string, ConditionValue>> = fc
  .record(
    {
      'aws:x': fc.constantFrom('1', '2', '3'),
      'aws:n': fc.constantFrom('3', '7'),
      'aws:tags': fc.constantFrom<string[]>([], ['a'], ['a', 'b']),
      'aws:SourceIp': fc.constantFrom('10.1.2.3', '192.168.0.1'),
    },
    { requiredKeys: [] },
  )
  // fast-check builds null-prototype records; spread into a plain object like callers pass.
  .map((r) => ({ ...r }) as Record<string, ConditionValue>);

interface Scenario {
  principal: Principal;
  action: string;
  resource: string;
  resourceAccount: string | undefined;
  context: Record<string, ConditionValue>;
  identity: Doc[];
  resource_: Doc | undefined;
  boundary: Doc | undefined;
  session: Doc[];
  required: boolean;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  principal: fc.constantFrom(...PRINCIPALS),
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES),
  resourceAccount: fc.constantFrom(ACCOUNT, OTHER, undefined),
  context: contextArb,
  identity: fc.array(docArb(false), { maxLength: 2 }),
  resource_: fc.option(docArb(true), { nil: undefined }),
  boundary: fc.option(docArb(false), { nil: undefined }),
  session: fc.array(docArb(false), { maxLength: 1 }),
  required: fc.boolean(),
});

const parse = (name: string, kind: PolicyKind, doc: Doc): NamedPolicy => ({ name, policy: parsePolicy(JSON.stringify(doc), kind) });

function toInput(s: Scenario): EvaluationInput {
  const input: EvaluationInput = {
    request: { principal: s.principal, action: s.action, resource: s.resource, context: s.context },
    identityPolicies: s.identity.map((d, i) => parse(`identity-${i}`, 'identity', d)),
    resourcePolicyRequired: s.required,
  };
  if (s.resourceAccount !== undefined) input.request.resourceAccount = s.resourceAccount;
  if (s.resource_) input.resourcePolicy = parse('resource', 'resource', s.resource_);
  if (s.boundary) input.permissionsBoundary = parse('boundary', 'boundary', s.boundary);
  if (s.session.length > 0) input.sessionPolicies = s.session.map((d, i) => parse(`session-${i}`, 'session', d));
  return input;
}

type Where = 'identity' | 'resource' | 'boundary' | 'session';

/** Adds `statement` to the policy at `where` (creating the policy if there is none). */
function withStatement(s: Scenario, where: Where, statement: Record<string, unknown>): Scenario {
  const add = (d: Doc | undefined): Doc => ({ Version: '2012-10-17', Statement: [...(d?.Statement ?? []), statement] });
  switch (where) {
    case 'identity':
      return { ...s, identity: s.identity.length > 0 ? [add(s.identity[0]), ...s.identity.slice(1)] : [add(undefined)] };
    case 'resource':
      return { ...s, resource_: add(s.resource_) };
    case 'boundary':
      return { ...s, boundary: add(s.boundary) };
    case 'session':
      return { ...s, session: [add(s.session[0])] };
  }
}

const RUNS = { numRuns: 400 };

describe('evaluation invariants (fast-check)', () => {
  it('the generators reach every outcome often enough for the properties to mean something', () => {
    const counts = { Allow: 0, ExplicitDeny: 0, ImplicitDeny: 0 };
    for (const s of fc.sample(scenarioArb, { numRuns: 1000, seed: 42 })) counts[evaluate(toInput(s)).outcome]++;
    for (const [outcome, n] of Object.entries(counts)) assert.ok(n >= 50, `${outcome}: ${n} of 1000`);
  });

  it('adding a Deny statement anywhere never turns a denial into Allow, nor an explicit deny into anything else', () => {
    const where = fc.constantFrom<Where>('identity', 'resource', 'boundary', 'session');
    fc.assert(
      fc.property(scenarioArb, where, statementArb(true, fc.constant('Deny')), (s, w, deny) => {
        if (w !== 'resource') delete deny['Principal'];
        if (w !== 'resource') delete deny['NotPrincipal'];
        const before = evaluate(toInput(s)).outcome;
        const after = evaluate(toInput(withStatement(s, w, deny))).outcome;
        if (before !== 'Allow') assert.notEqual(after, 'Allow');
        if (before === 'ExplicitDeny') assert.equal(after, 'ExplicitDeny');
      }),
      RUNS,
    );
  });

  it('adding an Allow to the identity side never turns an explicit deny into Allow', () => {
    fc.assert(
      fc.property(scenarioArb, statementArb(false, fc.constant('Allow')), (s, allow) => {
        const before = evaluate(toInput(s)).outcome;
        fc.pre(before === 'ExplicitDeny');
        assert.equal(evaluate(toInput(withStatement(s, 'identity', allow))).outcome, 'ExplicitDeny');
      }),
      RUNS,
    );
  });

  it('evaluation is deterministic and does not mutate its input', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const input = toInput(s);
        const snapshot = structuredClone(input);
        const first = evaluate(input);
        const second = evaluate(input);
        assert.deepEqual(second, first);
        assert.deepEqual(input, snapshot);
        // A fresh parse of the same documents decides the same way (no hidden state in caches).
        assert.deepEqual(evaluate(toInput(s)), first);
      }),
      RUNS,
    );
  });

  it('a deny-everything identity policy denies every user and session request', () => {
    const denyAll = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };
    fc.assert(
      fc.property(scenarioArb, (s) => {
        fc.pre(s.principal.type === 'User' || s.principal.type === 'AssumedRole');
        const d = evaluate(toInput({ ...s, identity: [...s.identity, denyAll] }));
        assert.equal(d.outcome, 'ExplicitDeny');
        assert.equal(d.reason === undefined, false);
      }),
      RUNS,
    );
  });

  it('an Allow always names at least one allowing statement, except the root user in its own account', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = evaluate(toInput(s));
        fc.pre(d.outcome === 'Allow');
        if (d.statements.length === 0) assert.equal(s.principal.type, 'Account');
        assert.ok(d.statements.every((st) => st.effect === 'Allow'));
        assert.equal(d.reason, undefined);
      }),
      RUNS,
    );
  });

  it('condition failures are only reported for statements that matched action and resource', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const f of evaluate(toInput(s)).conditionFailures) {
          assert.ok(f.expected.length > 0);
          assert.equal(typeof f.operator, 'string');
          assert.notEqual(f.statement.source, undefined);
        }
      }),
      RUNS,
    );
  });
});

describe('matching invariants (fast-check)', () => {
  const arnPart = fc.stringMatching(/^[a-z0-9-]{0,8}$/);
  const resourcePart = fc.stringMatching(/^[A-Za-z0-9/:._-]{1,20}$/);
  const arn = fc.tuple(arnPart, arnPart, arnPart, arnPart, resourcePart).map(([p, s, r, a, res]) => `arn:${p}:${s}:${r}:${a}:${res}`);

  it('an ARN matches itself, "*" and its own resource-part prefix followed by "*"', () => {
    fc.assert(
      fc.property(arn, fc.nat(20), (a, cut) => {
        assert.ok(matchResource(a, a));
        assert.ok(matchResource('*', a));
        const head = a.split(':').slice(0, 5).join(':');
        const res = a.split(':').slice(5).join(':');
        assert.ok(matchResource(`${head}:${res.slice(0, cut)}*`, a));
      }),
    );
  });

  it('resource matching is case-sensitive, action matching is not', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}:[A-Za-z]{1,12}$/), (action) => {
        assert.ok(matchAction(action.toUpperCase(), action));
        assert.ok(matchAction(action.toLowerCase(), action));
        const a = `arn:aws:s3:::${action.replace(':', '/')}`;
        if (a !== a.toUpperCase()) assert.equal(matchResource(a.toUpperCase(), a), false);
      }),
    );
  });

  it('in the first five parts a wildcard never spans a colon', () => {
    fc.assert(
      fc.property(arn, arnPart, (a, extra) => {
        const parts = a.split(':');
        // Insert an extra component into the account part: "acct:extra" must not match "*".
        const shifted = [...parts.slice(0, 4), `${parts[4]}:${extra}`, ...parts.slice(5)].join(':');
        const pattern = [...parts.slice(0, 4), '*', parts.slice(5).join(':')].join(':');
        assert.ok(matchResource(pattern, a));
        if (!parts.slice(5).join(':').includes(':')) assert.equal(matchResource(pattern, shifted), false);
      }),
    );
  });
});
