/**
 * The cluster query language's scanner. Scanning depends on what the grammar expects next,
 * because arguments are unquoted free text (`service:production`, `g2.*`,
 * `2018-06-18T22:28:28+00:00`): a bare argument runs to whitespace, to a `)` it did not open, or
 * to `&&`/`||`; quote it ('…' or "…", no escapes) to include those. The parser (cql.parse.ts)
 * extends this class and drives it.
 */

/** Characters of a subject (`attribute:ecs.instance-type`, `task:group`) and of keywords. */
export const SUBJECT_CHAR = /[A-Za-z0-9_.:/\\-]/;

/** A syntax error at a 0-based offset; parseExpression turns it into InvalidParameterException. */
export class ParseError extends Error {
  constructor(
    readonly problem: string,
    readonly at: number,
  ) {
    super(problem);
  }
}

export class Scanner {
  protected pos = 0;
  constructor(protected readonly src: string) {}

  /** `[a, 'b c', "d"]`: at least one item. */
  protected list(op: string): string[] {
    if (this.peek() !== "[") this.fail(`'${op}' takes a list such as [a, b], found ${this.found()}`);
    this.pos++;
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === "]" && items.length === 0) this.fail("the list is empty");
      const quoted = this.quoted();
      const item = quoted ?? this.take(/[^\s,\]()[]/);
      if (quoted === undefined && item === "") this.fail(`expected a list item, found ${this.found()}`);
      items.push(item);
      this.skipSpace();
      if (this.peek() === ",") this.pos++;
      else if (this.peek() === "]") {
        this.pos++;
        return items;
      } else this.fail(`expected ',' or ']' in the list, found ${this.found()}`);
    }
  }

  /** A quoted or bare argument. Bare ones keep balanced parentheses (and, for patterns, [classes] and escapes). */
  protected value(op: string, pattern: boolean): { text: string; quoted: boolean } {
    const quoted = this.quoted();
    if (quoted !== undefined) return { text: quoted, quoted: true };
    const start = this.pos;
    let depth = 0;
    let inClass = false;
    for (let c = this.peek(); c !== undefined; c = this.peek()) {
      if (pattern && c === "\\") {
        this.pos = Math.min(this.pos + 2, this.src.length);
        continue;
      }
      if (inClass) inClass = c !== "]";
      else if (/\s/.test(c)) break;
      else if (depth === 0 && (this.src.startsWith("&&", this.pos) || this.src.startsWith("||", this.pos))) break;
      else if (c === "(") depth++;
      else if (c === ")" && depth-- === 0) break;
      else if (pattern && c === "[") inClass = true;
      this.pos++;
    }
    if (this.pos === start) this.fail(`expected a value after '${op}', found ${this.found()}`);
    return { text: this.src.slice(start, this.pos), quoted: false };
  }

  /** A '…' or "…" literal without escapes, or undefined when the next character is no quote. */
  protected quoted(): string | undefined {
    const q = this.peek();
    if (q !== "'" && q !== '"') return undefined;
    const end = this.src.indexOf(q, this.pos + 1);
    if (end < 0) this.fail(`the quoted value has no closing ${q}`);
    const text = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return text;
  }

  protected connective(symbol: string, word: string): boolean {
    this.skipSpace();
    if (this.src.startsWith(symbol, this.pos)) this.pos += symbol.length;
    else if (this.keyword(word)) this.pos += word.length;
    else return false;
    return true;
  }

  /** The word (any case) at the cursor, not followed by a subject character. */
  protected keyword(word: string): boolean {
    return (
      this.src.slice(this.pos, this.pos + word.length).toLowerCase() === word &&
      !this.wordCharAt(this.pos + word.length)
    );
  }

  protected wordCharAt(i: number): boolean {
    const c = this.src[i];
    return c !== undefined && SUBJECT_CHAR.test(c);
  }

  protected take(chars: RegExp): string {
    const start = this.pos;
    while (this.pos < this.src.length && chars.test(this.src[this.pos] as string)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  protected skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos++;
  }

  protected peek(): string | undefined {
    return this.src[this.pos];
  }

  protected found(at = this.pos): string {
    const rest = this.src.slice(at).match(/^\S{1,20}/)?.[0];
    return rest === undefined ? "the end of the expression" : `'${rest}'`;
  }

  protected fail(problem: string, at = this.pos): never {
    throw new ParseError(problem, at);
  }
}
