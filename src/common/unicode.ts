/**
 * Whether a string is well-formed Unicode: no unpaired surrogate. JSON may carry one ("\ud800"), and
 * UTF-8 cannot encode it faithfully (it becomes U+FFFD), so two different strings would seal to the
 * same bytes; inputs that end up in an encryption context are refused instead.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
