import type { Rejection } from "../decider.ts";
import { ParseError, Scanner, SUBJECT_CHAR } from "./cql.lexer.ts";
import { compileJavaRegex } from "./cql.regex.vm.ts";
import type { Argument, Expr, Operator, Subject } from "./cql.ts";
import { parseTimestamp, parseVersion } from "./cql.values.ts";

/**
 * The cluster query language's parser: recursive descent over the scanner (cql.lexer.ts), which
 * reads arguments according to what the grammar expects next. Each literal is checked and
 * converted for its subject here (versions, dates, counts, true/false, Java patterns), so
 * evaluation never re-parses text. Errors name the 1-based position and what was expected.
 */

/** ECS's limit on a memberOf expression. */
export const MAX_EXPRESSION_LENGTH = 2000;
/** Parentheses and not() nesting; deeper is refused rather than recursed into. */
const MAX_DEPTH = 50;

const ATTRIBUTE_NAME = /^[A-Za-z0-9_./\\-]{1,128}$/;
const SUBJECTS: Record<string, Subject> = {
  agentconnected: { kind: "agentConnected" },
  agentversion: { kind: "agentVersion" },
  ec2instanceid: { kind: "ec2InstanceId" },
  registeredat: { kind: "registeredAt" },
  runningtaskscount: { kind: "runningTasksCount" },
  "task:group": { kind: "taskGroup" },
};
const SUBJECT_LIST =
  "agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group";

const WORD_OPERATORS: Record<string, Operator> = {
  equals: "==",
  not_equals: "!=",
  greater_than: ">",
  greater_than_equal: ">=",
  less_than: "<",
  less_than_equal: "<=",
  exists: "exists",
  not_exists: "!exists",
  in: "in",
  not_in: "!in",
  matches: "=~",
  not_matches: "!~",
};
/** Longest first, so `!exists` is not read as `!` and `>=` not as `>`. */
const SYMBOL_OPERATORS: Operator[] = ["!exists", "!in", "==", "!=", ">=", "<=", "=~", "!~", ">", "<"];

const EQUALITY: Operator[] = ["==", "!=", "in", "!in", "=~", "!~"];
const ORDERING: Operator[] = ["==", "!=", ">", ">=", "<", "<="];
/** ECS's documented valid operators per subject; attributes take all of them. */
const VALID: Record<Subject["kind"], Operator[] | "all"> = {
  agentConnected: EQUALITY,
  agentVersion: ORDERING,
  attribute: "all",
  ec2InstanceId: EQUALITY,
  registeredAt: ORDERING,
  runningTasksCount: ORDERING,
  taskGroup: EQUALITY,
};

const invalid = (message: string): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection: { code: "InvalidParameterException", message },
});

export function parseExpression(text: string): { ok: true; expr: Expr } | { ok: false; rejection: Rejection } {
  if (text.length > MAX_EXPRESSION_LENGTH)
    return invalid(`Invalid expression: it is ${text.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}.`);
  if (text.trim() === "") return invalid("Invalid expression: the expression is empty.");
  try {
    return { ok: true, expr: new Parser(text).parse() };
  } catch (e) {
    if (e instanceof ParseError) return invalid(`Invalid expression at position ${e.at + 1}: ${e.problem}.`);
    throw e;
  }
}

class Parser extends Scanner {
  private depth = 0;

  parse(): Expr {
    const expr = this.or();
    this.skipSpace();
    if (this.pos < this.src.length)
      this.fail(
        this.peek() === ")"
          ? "')' has no matching '('"
          : `expected 'and', 'or' or the end of the expression, found ${this.found()}`,
      );
    return expr;
  }

  private or(): Expr {
    const items = [this.and()];
    while (this.connective("||", "or")) items.push(this.and());
    return items.length === 1 ? (items[0] as Expr) : { kind: "or", items };
  }

  private and(): Expr {
    const items = [this.unary()];
    while (this.connective("&&", "and")) items.push(this.unary());
    return items.length === 1 ? (items[0] as Expr) : { kind: "and", items };
  }

  private unary(): Expr {
    this.skipSpace();
    if (this.depth >= MAX_DEPTH) this.fail(`nesting is deeper than ${MAX_DEPTH} levels`);
    const start = this.pos;
    const isNot = this.peek() === "!" || this.keyword("not");
    if (isNot || this.peek() === "(") {
      this.depth++;
      let inner: Expr;
      if (isNot) {
        this.pos += this.peek() === "!" ? 1 : 3;
        inner = { kind: "not", expr: this.unary() };
      } else {
        this.pos++;
        inner = this.or();
        this.skipSpace();
        if (this.peek() !== ")")
          this.fail(`expected ')' to close the '(' at position ${start + 1}, found ${this.found()}`);
        this.pos++;
      }
      this.depth--;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const subjectAt = this.pos;
    const word = this.take(SUBJECT_CHAR);
    if (word === "") this.fail(`expected a subject (${SUBJECT_LIST}), found ${this.found()}`);
    const subject = this.subject(word, subjectAt);
    this.skipSpace();
    const opAt = this.pos;
    const op = this.operator(word);
    const valid = VALID[subject.kind];
    if (valid !== "all" && !valid.includes(op))
      this.fail(`operator '${op}' is not valid for ${word}; use one of ${valid.join(", ")}`, opAt);
    return { kind: "test", subject, op, arg: this.argument(subject, op, word) };
  }

  private subject(word: string, at: number): Subject {
    const lower = word.toLowerCase();
    if (lower.startsWith("attribute:")) {
      const name = word.slice("attribute:".length);
      if (!ATTRIBUTE_NAME.test(name))
        this.fail(
          name === ""
            ? "'attribute:' must be followed by an attribute name"
            : `'${name}' is not a valid attribute name (1-128 letters, digits, '-', '_', '.', '/' or '\\')`,
          at,
        );
      return { kind: "attribute", name };
    }
    const subject = SUBJECTS[lower];
    if (!subject) return this.fail(`unknown subject '${word}'; expected ${SUBJECT_LIST}`, at);
    return subject;
  }

  private operator(subject: string): Operator {
    const symbol = SYMBOL_OPERATORS.find(
      (op) => this.src.startsWith(op, this.pos) && !(/[a-z]$/.test(op) && this.wordCharAt(this.pos + op.length)),
    );
    if (symbol) {
      this.pos += symbol.length;
      return symbol;
    }
    const at = this.pos;
    const word = this.take(/[A-Za-z_]/).toLowerCase();
    const op = WORD_OPERATORS[word];
    if (!op || this.wordCharAt(this.pos))
      this.fail(
        `expected an operator after '${subject}' (==, !=, >, >=, <, <=, exists, !exists, in, !in, =~, !~ or their word forms), found ${this.found(at)}`,
        at,
      );
    return op;
  }

  private argument(subject: Subject, op: Operator, word: string): Argument {
    if (op === "exists" || op === "!exists") return { kind: "none" };
    this.skipSpace();
    const at = this.pos;
    if (op === "in" || op === "!in")
      return { kind: "list", items: this.list(op).map((v) => this.typed(subject, v, at).text) };
    if (op === "=~" || op === "!~") {
      const pattern = this.value(op, true);
      const compiled = compileJavaRegex(pattern.text);
      if (!compiled.ok)
        this.fail(
          `invalid regular expression: ${compiled.message}`,
          pattern.quoted ? at + 1 + compiled.at : at + compiled.at,
        );
      return { kind: "regex", regex: compiled.regex };
    }
    if (this.peek() === "[") this.fail(`a list [a, b] is only allowed after in or !in, not after '${op}' (${word})`);
    return this.typed(subject, this.value(op, false).text, at).arg;
  }

  /** Checks and converts a literal for its subject. */
  private typed(subject: Subject, text: string, at: number): { text: string; arg: Argument } {
    switch (subject.kind) {
      case "agentVersion": {
        const version = parseVersion(text);
        if (!version) this.fail(`agentVersion compares with a version such as 1.14.5, not '${text}'`, at);
        return { text, arg: { kind: "version", version } };
      }
      case "registeredAt": {
        const ms = parseTimestamp(text);
        if (ms === undefined)
          this.fail(
            `registeredAt takes a date such as 2018-06-18, 2018-06-18T22:28:28, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00, not '${text}'`,
            at,
          );
        return { text, arg: { kind: "time", at: ms } };
      }
      case "runningTasksCount":
        if (!/^\d{1,9}$/.test(text)) this.fail(`runningTasksCount compares with a whole number, not '${text}'`, at);
        return { text, arg: { kind: "count", value: Number(text) } };
      case "agentConnected": {
        const lower = text.toLowerCase();
        if (lower !== "true" && lower !== "false")
          this.fail(`agentConnected compares with true or false, not '${text}'`, at);
        return { text: lower, arg: { kind: "text", text: lower } };
      }
      default:
        return { text, arg: { kind: "text", text } };
    }
  }
}
