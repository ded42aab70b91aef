/**
 * Validation of JSON documents typed into the console's editors, shown in place as the user types:
 * where the JSON is broken (line and column), and for policies the same checks and messages IAM's
 * MalformedPolicyDocument gives (Meridian's own policy parser, bundled into the console).
 */
import { parsePolicy } from '../../../src/policy/parse';
import type { PolicyKind } from '../../../src/policy/types';

export interface JsonProblem {
  message: string;
  line?: number;
  column?: number;
}

/** Line and column (1-based) of a character offset. */
export function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

export function checkJson(text: string): JsonProblem | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // V8: "… at position 42" or "… (line 3 column 5)".
    const lc = /line (\d+) column (\d+)/.exec(message);
    if (lc) return { message, line: Number(lc[1]), column: Number(lc[2]) };
    const pos = /position (\d+)/.exec(message);
    if (pos) return { message, ...position(text, Number(pos[1])) };
    if (/end of (JSON|data) input/i.test(message)) return { message, ...position(text, text.length) };
    return { message };
  }
}

export type PolicyDocKind = Extract<PolicyKind, 'identity' | 'resource' | 'trust' | 'key'>;

export function checkPolicy(text: string, kind: PolicyDocKind): JsonProblem | undefined {
  if (text.trim() === '') return { message: 'The policy is empty.' };
  const syntax = checkJson(text);
  if (syntax) return { ...syntax, message: `This policy contains invalid Json: ${syntax.message}` };
  try {
    parsePolicy(text, kind);
    return undefined;
  } catch (e) {
    return { message: e instanceof Error ? e.message : String(e) };
  }
}
