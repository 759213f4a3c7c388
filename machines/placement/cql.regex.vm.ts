import { type CharTest, WORD } from "./cql.regex.chars.ts";
import { type AssertKind, type Node, parseJavaRegex, RegexSyntaxError } from "./cql.regex.ts";

/**
 * Compiles a parsed pattern to a small program and runs it as a Pike VM (Thompson's NFA
 * simulation, as in RE2 and Go's regexp): every input character advances the set of live program
 * counters at once, so a match costs O(program × input) whatever the pattern. Only a yes/no
 * whole-value answer is needed, so there are no captures and greedy/lazy do not matter.
 */

type Inst =
  | { op: "char"; test: CharTest }
  | { op: "split"; a: number; b: number }
  | { op: "jmp"; to: number }
  | { op: "assert"; kind: AssertKind }
  | { op: "match" };

/** A compiled `matches` pattern. Immutable once built. */
export interface JavaRegex {
  readonly source: string;
  readonly program: readonly Inst[];
}

/** Counted repetition copies its body; this bounds the copies (`(a{1000}){1000}` is refused). */
export const MAX_PROGRAM = 20_000;

class TooComplex extends Error {}

export type RegexCompileResult = { ok: true; regex: JavaRegex } | { ok: false; message: string; at: number };

export function compileJavaRegex(source: string): RegexCompileResult {
  try {
    const program: Inst[] = [];
    emit(parseJavaRegex(source), program);
    push(program, { op: "match" });
    return { ok: true, regex: { source, program } };
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { ok: false, message: e.message, at: e.at };
    if (e instanceof TooComplex)
      return { ok: false, message: `pattern is too complex (over ${MAX_PROGRAM} steps once expanded)`, at: 0 };
    throw e;
  }
}

function push(p: Inst[], inst: Inst): number {
  if (p.length >= MAX_PROGRAM) throw new TooComplex();
  p.push(inst);
  return p.length - 1;
}

function emit(node: Node, p: Inst[]): void {
  switch (node.t) {
    case "char":
      push(p, { op: "char", test: node.test });
      return;
    case "assert":
      push(p, { op: "assert", kind: node.kind });
      return;
    case "seq":
      for (const n of node.items) emit(n, p);
      return;
    case "alt": {
      // split L1, next; L1: item; jmp end; next: split … ; last item; end:
      const jumps: { op: "jmp"; to: number }[] = [];
      node.items.forEach((item, k) => {
        if (k < node.items.length - 1) {
          const split = { op: "split" as const, a: 0, b: 0 };
          split.a = push(p, split) + 1;
          emit(item, p);
          const j = { op: "jmp" as const, to: 0 };
          jumps.push(j);
          push(p, j);
          split.b = p.length;
        } else emit(item, p);
      });
      for (const j of jumps) j.to = p.length;
      return;
    }
    case "rep": {
      for (let k = 0; k < node.min; k++) emit(node.node, p);
      if (node.max === Infinity) {
        // loop: split body, out; body; jmp loop; out:
        const split = { op: "split" as const, a: 0, b: 0 };
        const loop = push(p, split);
        split.a = loop + 1;
        emit(node.node, p);
        push(p, { op: "jmp", to: loop });
        split.b = p.length;
        return;
      }
      const splits: { op: "split"; a: number; b: number }[] = [];
      for (let k = node.min; k < node.max; k++) {
        const split = { op: "split" as const, a: 0, b: 0 };
        split.a = push(p, split) + 1;
        splits.push(split);
        emit(node.node, p);
      }
      for (const s of splits) s.b = p.length;
      return;
    }
  }
}

function holds(kind: AssertKind, input: string, pos: number): boolean {
  switch (kind) {
    case "start":
      return pos === 0;
    case "end":
      return pos === input.length;
    case "word":
    case "notWord": {
      const before = pos > 0 && WORD(input.charCodeAt(pos - 1));
      const after = pos < input.length && WORD(input.charCodeAt(pos));
      return (before !== after) === (kind === "word");
    }
  }
}

/** True when the whole of `input` matches (Java's `Matcher.matches()`). O(program × input). */
export function fullMatch(re: JavaRegex, input: string): boolean {
  const prog = re.program;
  const n = prog.length;
  let current = new Int32Array(n);
  let next = new Int32Array(n);
  let currentLen = 0;
  let nextLen = 0;
  const seen = new Int32Array(n).fill(-1); // generation (input position) at which a pc was added
  const stack = new Int32Array(n);

  /** Adds pc and everything reachable from it without reading a character. */
  const add = (list: Int32Array, len: number, start: number, pos: number): number => {
    let top = 0;
    const visit = (pc: number) => {
      if (seen[pc] !== pos) {
        seen[pc] = pos;
        stack[top++] = pc;
      }
    };
    visit(start);
    while (top > 0) {
      const pc = stack[--top] as number;
      const inst = prog[pc] as Inst;
      if (inst.op === "jmp") visit(inst.to);
      else if (inst.op === "split") {
        visit(inst.a);
        visit(inst.b);
      } else if (inst.op === "assert") {
        if (holds(inst.kind, input, pos)) visit(pc + 1);
      } else list[len++] = pc;
    }
    return len;
  };

  currentLen = add(current, 0, 0, 0);
  for (let pos = 0; pos < input.length && currentLen > 0; pos++) {
    const c = input.charCodeAt(pos);
    nextLen = 0;
    for (let k = 0; k < currentLen; k++) {
      const pc = current[k] as number;
      const inst = prog[pc] as Inst;
      if (inst.op === "char" && inst.test(c)) nextLen = add(next, nextLen, pc + 1, pos + 1);
    }
    [current, next] = [next, current];
    currentLen = nextLen;
  }
  for (let k = 0; k < currentLen; k++) if (prog[current[k] as number]?.op === "match") return true;
  return false;
}
