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
    // Engines word it differently and not all say where ("… at position 42", "line 3 column 5", or
    // nothing): find the place ourselves.
    const at = syntaxErrorOffset(text);
    return at === undefined ? { message } : { message, ...position(text, at) };
  }
}

/** The offset of the first JSON syntax error (a small recursive-descent scan), if any. */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const lit = (word: string) => {
    for (const c of word) if (text[i++] !== c) (i--, fail());
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) ((i += k), fail());
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-' || m[0] === '') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) num();
    else fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined;
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
