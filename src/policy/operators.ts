/**
 * Condition operator names: parsing `ForAnyValue:StringLikeIfExists` into its parts, shared by
 * parse.ts (validation) and conditions.ts (evaluation).
 */

export type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'Ip' | 'Arn' | 'Null';

/** The comparison a base operator performs, in its positive form (negated operators invert it). */
export type Comparison =
  | 'equals'
  | 'equalsIgnoreCase'
  | 'like'
  | 'lessThan'
  | 'lessThanEquals'
  | 'greaterThan'
  | 'greaterThanEquals'
  | 'inRange'
  | 'null';

export interface OperatorInfo {
  family: OperatorFamily;
  /** Canonical base name without qualifier or IfExists, e.g. 'StringNotLike'. */
  base: string;
  comparison: Comparison;
  negated: boolean;
  ifExists: boolean;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
}

interface BaseOperator {
  family: OperatorFamily;
  comparison: Comparison;
  negated: boolean;
}

/** Lower-cased name -> what it does. */
const BASE_OPERATORS = new Map<string, BaseOperator>();
/** Lower-cased name -> AWS's spelling. */
const CANONICAL = new Map<string, string>();

function add(name: string, family: OperatorFamily, comparison: Comparison, negated = false): void {
  BASE_OPERATORS.set(name.toLowerCase(), { family, comparison, negated });
  CANONICAL.set(name.toLowerCase(), name);
}

add('StringEquals', 'String', 'equals');
add('StringNotEquals', 'String', 'equals', true);
add('StringEqualsIgnoreCase', 'String', 'equalsIgnoreCase');
add('StringNotEqualsIgnoreCase', 'String', 'equalsIgnoreCase', true);
add('StringLike', 'String', 'like');
add('StringNotLike', 'String', 'like', true);
add('NumericEquals', 'Numeric', 'equals');
add('NumericNotEquals', 'Numeric', 'equals', true);
add('NumericLessThan', 'Numeric', 'lessThan');
add('NumericLessThanEquals', 'Numeric', 'lessThanEquals');
add('NumericGreaterThan', 'Numeric', 'greaterThan');
add('NumericGreaterThanEquals', 'Numeric', 'greaterThanEquals');
add('DateEquals', 'Date', 'equals');
add('DateNotEquals', 'Date', 'equals', true);
add('DateLessThan', 'Date', 'lessThan');
add('DateLessThanEquals', 'Date', 'lessThanEquals');
add('DateGreaterThan', 'Date', 'greaterThan');
add('DateGreaterThanEquals', 'Date', 'greaterThanEquals');
add('Bool', 'Bool', 'equalsIgnoreCase');
add('BinaryEquals', 'Binary', 'equals');
add('IpAddress', 'Ip', 'inRange');
add('NotIpAddress', 'Ip', 'inRange', true);
add('ArnEquals', 'Arn', 'like');
add('ArnLike', 'Arn', 'like');
add('ArnNotEquals', 'Arn', 'like', true);
add('ArnNotLike', 'Arn', 'like', true);
add('Null', 'Null', 'null');

const cache = new Map<string, OperatorInfo | null>();

/**
 * Parses an operator as written in a policy. Names are accepted case-insensitively (AWS's own
 * examples are consistent, and rejecting a lower-case spelling would be worse than accepting it).
 * Returns undefined for anything that is not an IAM condition operator.
 */
export function parseOperator(name: string): OperatorInfo | undefined {
  const hit = cache.get(name);
  if (hit !== undefined) return hit ?? undefined;
  const info = parseUncached(name);
  if (cache.size > 1000) cache.clear();
  cache.set(name, info ?? null);
  return info;
}

function parseUncached(name: string): OperatorInfo | undefined {
  let rest = name;
  let qualifier: OperatorInfo['qualifier'];
  const lower = rest.toLowerCase();
  if (lower.startsWith('foranyvalue:')) {
    qualifier = 'ForAnyValue';
    rest = rest.slice('foranyvalue:'.length);
  } else if (lower.startsWith('forallvalues:')) {
    qualifier = 'ForAllValues';
    rest = rest.slice('forallvalues:'.length);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'ifexists'.length);
  }
  const key = rest.toLowerCase();
  const base = BASE_OPERATORS.get(key);
  if (!base) return undefined;
  // Null has neither an IfExists variant nor a set form: it is itself about existence.
  if (base.family === 'Null' && (ifExists || qualifier)) return undefined;
  const info: OperatorInfo = { ...base, base: CANONICAL.get(key) ?? rest, ifExists };
  if (qualifier) info.qualifier = qualifier;
  return info;
}

/** Policy variables are substituted only in String, ARN and Bool condition values (reference §3.4). */
export function familyAllowsVariables(family: OperatorFamily): boolean {
  return family === 'String' || family === 'Arn' || family === 'Bool';
}
