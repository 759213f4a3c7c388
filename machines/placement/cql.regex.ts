import {
  ALPHA,
  anyOf,
  type CharTest,
  CLASS_ESCAPES,
  CONTROL_ESCAPES,
  cp,
  LINE_END,
  not,
  POSIX,
  range,
} from "./cql.regex.chars.ts";

/**
 * The `matches` operator's patterns: a subset of java.util.regex, parsed here and run by a
 * Thompson-NFA simulation (cql.regex.vm.ts) instead of a JavaScript RegExp. V8's backtracking engine
 * takes exponential time on patterns such as `(a+)+b`, and a placement expression is evaluated
 * on the single scheduler leader for every instance; a linear-time matcher makes a hostile or
 * careless expression cost microseconds, never the leader.
 *
 * Supported (Java meaning): literals, `.`, `^`, `$`, `\A`, `\z`, `\Z`, `\b`, `\B`, classes
 * `[a-z]`, `[^…]`, `\d \D \w \W \s \S` (ASCII, as Java's defaults), POSIX `\p{Alpha}` etc.,
 * escapes `\t \n \r \f \a \e \0oo \xhh \x{h…} \uhhhh \cX \Q…\E`, groups `(…)`, `(?:…)`,
 * `(?<name>…)`, alternation, quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms, inline
 * flags `(?i)` (ASCII case folding, Java's default) and `(?s)`, also scoped `(?i:…)`.
 * Rejected with a message: back-references, look-around, atomic groups, possessive quantifiers,
 * class unions/intersections, other flags and escapes. A match must cover the whole value
 * (Java's `Matcher.matches()`), so `g2.*` matches `g2.2xlarge`.
 */

export type AssertKind = "start" | "end" | "word" | "notWord";
export type Node =
  | { t: "char"; test: CharTest }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; node: Node; min: number; max: number }
  | { t: "assert"; kind: AssertKind };

/** Java rejects counts above ~2^31; ours stays small so a pattern's program stays small. */
export const MAX_REPEAT = 1000;

export class RegexSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

interface Flags {
  i: boolean;
  s: boolean;
}

/** Parses a Java pattern to a tree; throws RegexSyntaxError with a 0-based offset. */
export function parseJavaRegex(src: string): Node {
  let pos = 0;
  let flags: Flags = { i: false, s: false };
  const fail = (message: string, at = pos): never => {
    throw new RegexSyntaxError(message, at);
  };
  const peek = () => src[pos];
  const literal = (c: number): Node => {
    const fold = flags.i && ALPHA(c);
    return { t: "char", test: fold ? (x) => x === c || x === (c ^ 0x20) : (x) => x === c };
  };
  const folded = (test: CharTest): CharTest => (flags.i ? (c) => test(c) || (ALPHA(c) && test(c ^ 0x20)) : test);

  function hex(from: number, len: number): number {
    const digits = src.slice(from, from + len);
    if (digits.length !== len || !/^[0-9a-fA-F]+$/.test(digits)) fail("expected hexadecimal digits", from);
    pos = from + len;
    return Number.parseInt(digits, 16);
  }

  /** After a backslash (anchors and \Q are handled by atom()): one code unit or a class test. */
  function escaped(inClass: boolean): number | CharTest {
    const c = src[pos];
    if (c === undefined) return fail("pattern ends with a lone backslash");
    const at = pos++;
    if (CLASS_ESCAPES[c]) return CLASS_ESCAPES[c];
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return control;
    if (c === "p" || c === "P") {
      const m = /^\{([A-Za-z]+)\}/.exec(src.slice(pos));
      const test = m?.[1] !== undefined ? POSIX[m[1]] : undefined;
      if (!m || !test) return fail("only POSIX classes such as \\p{Alpha} are supported after \\p", at);
      pos += m[0].length;
      return c === "p" ? test : not(test);
    }
    if (c === "x") {
      if (peek() !== "{") return hex(pos, 2);
      const close = src.indexOf("}", pos);
      if (close < 0 || close - pos > 7) return fail("malformed \\x{…} escape", at);
      const v = hex(pos + 1, close - pos - 1);
      pos = close + 1;
      if (v > 0xffff) return fail("code points above U+FFFF are not supported", at);
      return v;
    }
    if (c === "u") return hex(pos, 4);
    if (c === "0") {
      const m = /^[0-7]{1,3}/.exec(src.slice(pos));
      if (!m) return fail("\\0 must be followed by octal digits", at);
      const v = Number.parseInt(m[0], 8);
      if (v > 0o377) return fail("octal escape above \\0377", at);
      pos += m[0].length;
      return v;
    }
    if (c === "c") {
      const x = src[pos++];
      if (x === undefined) return fail("\\c must be followed by a character", at);
      return cp(x) ^ 64;
    }
    if (/[1-9k]/.test(c)) return fail("back-references are not supported", at);
    if (/[A-Za-z0-9]/.test(c)) return fail(`unsupported escape \\${c}${inClass ? " in a character class" : ""}`, at);
    return cp(c);
  }

  function charClass(): Node {
    const start = pos++;
    const negate = peek() === "^";
    if (negate) pos++;
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      const c = peek();
      if (c === undefined) return fail("unclosed character class", start);
      if (c === "]" && !first) break;
      first = false;
      if (c === "[") return fail("nested character classes are not supported");
      if (c === "&" && src[pos + 1] === "&") return fail("character class intersection (&&) is not supported");
      let lo: number | CharTest;
      if (c === "\\") {
        pos++;
        lo = escaped(true);
      } else lo = src.charCodeAt(pos++);
      if (typeof lo === "function") {
        tests.push(lo);
        continue;
      }
      if (peek() === "-" && src[pos + 1] !== "]" && src[pos + 1] !== undefined) {
        pos++;
        let hi: number | CharTest;
        if (peek() === "\\") {
          pos++;
          hi = escaped(true);
        } else hi = src.charCodeAt(pos++);
        if (typeof hi === "function") return fail("a range cannot end in a class escape");
        if (hi < lo) return fail("character range is out of order");
        tests.push(range(lo, hi));
      } else {
        const v = lo;
        tests.push((x) => x === v);
      }
    }
    pos++;
    const union = anyOf(...tests);
    return { t: "char", test: folded(negate ? not(union) : union) };
  }

  /** `(?…)` flag groups: `(?is-s)` sets flags for the rest of the enclosing group. */
  function setFlags(spec: string, at: number): Flags {
    const next = { ...flags };
    let on = true;
    for (const f of spec) {
      if (f === "-") on = false;
      else if (f === "i" || f === "s") next[f] = on;
      else fail(`unsupported inline flag '${f}' (only i and s are supported)`, at);
    }
    return next;
  }

  function group(): Node | null {
    const start = pos++;
    const saved = flags;
    if (peek() === "?") {
      pos++;
      const rest = src.slice(pos);
      const flagGroup = /^([a-zA-Z-]*)([:)])/.exec(rest);
      if (rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!"))
        return fail("look-ahead and look-behind are not supported", start);
      if (rest.startsWith(">")) return fail("atomic groups are not supported", start);
      if (rest.startsWith("<")) {
        const m = /^<[A-Za-z][A-Za-z0-9]*>/.exec(rest);
        if (!m) return fail("malformed named group", start);
        pos += m[0].length;
      } else if (flagGroup) {
        const spec = flagGroup[1] ?? "";
        pos += flagGroup[0].length;
        if (flagGroup[2] === ")") {
          flags = setFlags(spec, start); // lasts until the enclosing group closes
          return null;
        }
        flags = setFlags(spec, start);
      } else return fail("unknown group construct", start);
    }
    const inner = alternation();
    if (peek() !== ")") return fail("unclosed group", start);
    pos++;
    flags = saved;
    return inner;
  }

  function atom(): Node | null {
    const c = peek() as string;
    switch (c) {
      case "(":
        return group();
      case "[":
        return charClass();
      case ".":
        pos++;
        return { t: "char", test: flags.s ? () => true : not(LINE_END) };
      case "^":
        pos++;
        return { t: "assert", kind: "start" };
      case "$":
        pos++;
        return { t: "assert", kind: "end" };
      case "*":
      case "+":
      case "?":
      case "{":
        return fail(`nothing to repeat before '${c}'`);
      case "\\": {
        const e = src[pos + 1];
        if (e === "b" || e === "B" || e === "A" || e === "z" || e === "Z") {
          pos += 2;
          return { t: "assert", kind: e === "b" ? "word" : e === "B" ? "notWord" : e === "A" ? "start" : "end" };
        }
        if (e === "Q") {
          const end = src.indexOf("\\E", pos + 2);
          const text = src.slice(pos + 2, end < 0 ? src.length : end);
          pos = end < 0 ? src.length : end + 2;
          return { t: "seq", items: [...text].map((ch) => literal(cp(ch))) };
        }
        pos++;
        const v = escaped(false);
        return typeof v === "function" ? { t: "char", test: folded(v) } : literal(v);
      }
      default:
        pos++;
        return literal(src.charCodeAt(pos - 1));
    }
  }

  function quantifier(node: Node): Node {
    const c = peek();
    let min: number;
    let max: number;
    const at = pos;
    if (c === "*" || c === "+" || c === "?") {
      pos++;
      [min, max] = c === "*" ? [0, Infinity] : c === "+" ? [1, Infinity] : [0, 1];
    } else if (c === "{") {
      const m = /^\{(\d{1,9})(,(\d{0,9}))?\}/.exec(src.slice(pos));
      if (!m) return fail("malformed repetition {n,m}");
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (max < min) return fail("repetition {n,m} has m < n");
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT))
        return fail(`repetition counts above ${MAX_REPEAT} are not supported`);
      pos += m[0].length;
    } else return node;
    if (node.t === "assert") return fail("nothing to repeat", at);
    if (peek() === "+") return fail("possessive quantifiers are not supported");
    if (peek() === "?") pos++; // lazy: the same yes/no answer for a whole-value match
    if (peek() === "*" || peek() === "+" || peek() === "?" || peek() === "{") return fail("dangling quantifier");
    return { t: "rep", node, min, max };
  }

  function sequence(): Node {
    const items: Node[] = [];
    while (pos < src.length && peek() !== "|" && peek() !== ")") {
      const a = atom();
      if (a) items.push(quantifier(a));
    }
    return items.length === 1 && items[0] ? items[0] : { t: "seq", items };
  }

  function alternation(): Node {
    const items = [sequence()];
    while (peek() === "|") {
      pos++;
      items.push(sequence());
    }
    return items.length === 1 && items[0] ? items[0] : { t: "alt", items };
  }

  const tree = alternation();
  if (pos < src.length) fail("unmatched ')'");
  return tree;
}
