/**
 * The one IAM policy engine: parse and validate documents, evaluate requests, explain decisions.
 * Pure code, no I/O.
 */
export { parsePolicy, PolicyValidationError } from './parse.js';
export { evaluate } from './evaluate.js';
export { decisionSummary, denialMessage, explainDecision } from './explain.js';
export { matchAction, matchResource, principalMatches } from './match.js';
export { isPublicPolicy, isPublicStatement, withoutPublicGrants } from './public.js';
export { policyMentions } from './mentions.js';
export type {
  AuthorizationRequest,
  ConditionFailure,
  ConditionValue,
  Decision,
  EvaluationInput,
  NamedPolicy,
  Outcome,
  ParsedPolicy,
  PolicyKind,
  PolicySource,
  Principal,
  PrincipalSpec,
  Statement,
  StatementRef,
} from './types.js';
