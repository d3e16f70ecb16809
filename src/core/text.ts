/**
 * Free text a tenant stores (descriptions, tag keys and values): one set of limits for every
 * interface (the REST schemas say the same lengths). Refused: control characters (NUL, CR, LF,
 * ESC, DEL, C1), bidirectional overrides and isolates (text that reads otherwise than it is
 * stored), lone surrogates and the noncharacters U+FFFE/U+FFFF: none has a place in a
 * description, and XML cannot carry most of them (the AWS endpoint answers in XML).
 * Tab is allowed.
 */
import { NimbusError } from './errors.js';

const FORBIDDEN =
  /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/** The character at fault, as a person reads it: `U+001B`. */
const codeOf = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` may not be stored as text of at most `max` characters, or null. */
export function textProblem(value: string, max: number): string | null {
  if ([...value].length > max) return `is longer than ${max} characters`;
  const bad = FORBIDDEN.exec(value);
  return bad ? `holds ${codeOf(bad[0])} at ${bad.index}, a control or direction character` : null;
}

/** Refuses text that textProblem refuses, naming the field (InvalidParameterValue). */
export function checkText(field: string, value: string, max: number): string {
  const problem = textProblem(value, max);
  if (problem) throw new NimbusError('InvalidParameterValue', `${field}: ${problem}`);
  return value;
}
