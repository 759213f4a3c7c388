/**
 * Character tests for the Java pattern dialect (cql.regex.ts): java.util.regex's default,
 * US-ASCII meanings of \d \w \s, its POSIX classes and control escapes. Code units in, yes/no out.
 */

export type CharTest = (c: number) => boolean;

export const range =
  (lo: number, hi: number): CharTest =>
  (c) =>
    c >= lo && c <= hi;
export const anyOf =
  (...tests: CharTest[]): CharTest =>
  (c) =>
    tests.some((t) => t(c));
export const not =
  (t: CharTest): CharTest =>
  (c) =>
    !t(c);
export const cp = (s: string) => s.charCodeAt(0);

export const DIGIT = range(48, 57);
export const LOWER = range(97, 122);
export const UPPER = range(65, 90);
export const ALPHA = anyOf(LOWER, UPPER);
export const ALNUM = anyOf(ALPHA, DIGIT);
export const WORD = anyOf(ALNUM, (c) => c === 95);
export const SPACE = (c: number) => c === 32 || (c >= 9 && c <= 13);
export const PUNCT = anyOf(range(0x21, 0x2f), range(0x3a, 0x40), range(0x5b, 0x60), range(0x7b, 0x7e));
export const LINE_END = (c: number) => c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029;

/** java.util.regex POSIX classes (US-ASCII only, as in Java without UNICODE_CHARACTER_CLASS). */
export const POSIX: Record<string, CharTest> = {
  Lower: LOWER,
  Upper: UPPER,
  ASCII: range(0, 0x7f),
  Alpha: ALPHA,
  Digit: DIGIT,
  Alnum: ALNUM,
  Punct: PUNCT,
  Graph: range(0x21, 0x7e),
  Print: range(0x20, 0x7e),
  Blank: (c) => c === 32 || c === 9,
  Cntrl: (c) => c < 0x20 || c === 0x7f,
  XDigit: anyOf(DIGIT, range(65, 70), range(97, 102)),
  Space: SPACE,
};

export const CLASS_ESCAPES: Record<string, CharTest> = {
  d: DIGIT,
  D: not(DIGIT),
  w: WORD,
  W: not(WORD),
  s: SPACE,
  S: not(SPACE),
};
export const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, a: 7, e: 27 };
