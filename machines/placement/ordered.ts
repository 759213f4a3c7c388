/**
 * The two index structures incremental placement keeps per demand (place.ts). Plain data
 * structures: no allocation per query.
 */

/** Which slots are feasible, with "the k-th feasible slot in slot order" in O(log n) (a Fenwick tree). */
export class FeasibleSet {
  private readonly tree: Int32Array;
  private readonly on: Uint8Array;
  private readonly top: number;
  size = 0;

  constructor(readonly n: number) {
    this.tree = new Int32Array(n + 1);
    this.on = new Uint8Array(n);
    let top = 1;
    while (top * 2 <= n) top *= 2;
    this.top = top;
  }

  /** Builds from a predicate in O(n). */
  fill(feasible: (slot: number) => boolean): void {
    for (let i = 0; i < this.n; i++) {
      if (!feasible(i)) continue;
      this.on[i] = 1;
      this.tree[i + 1] = 1;
      this.size++;
    }
    for (let i = 1; i <= this.n; i++) {
      const up = i + (i & -i);
      if (up <= this.n) this.tree[up]! += this.tree[i] as number;
    }
  }

  has(slot: number): boolean {
    return this.on[slot] === 1;
  }

  set(slot: number, feasible: boolean): void {
    if ((this.on[slot] === 1) === feasible) return;
    this.on[slot] = feasible ? 1 : 0;
    const d = feasible ? 1 : -1;
    this.size += d;
    for (let i = slot + 1; i <= this.n; i += i & -i) this.tree[i]! += d;
  }

  /** The k-th (0-based) feasible slot in ascending slot order; k < size. */
  nth(k: number): number {
    let pos = 0;
    let rest = k + 1;
    for (let step = this.top; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n && (this.tree[next] as number) < rest) {
        pos = next;
        rest -= this.tree[next] as number;
      }
    }
    return pos; // 1-based position pos + 1 → slot pos
  }
}

/**
 * A binary min-heap of (key…, slot) entries whose keys are frozen when pushed. A slot whose key
 * changes is pushed again with a new version; stale entries are dropped when they reach the top.
 */
export class SlotHeap {
  private readonly entries: { slot: number; version: number; keys: number[] }[] = [];

  constructor(
    private readonly keysOf: (slot: number) => number[],
    private readonly current: (slot: number, version: number) => boolean,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  push(slot: number, version: number): void {
    const e = { slot, version, keys: this.keysOf(slot) };
    const a = this.entries;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i] as Entry, a[p] as Entry)) break;
      [a[i], a[p]] = [a[p] as Entry, a[i] as Entry];
      i = p;
    }
  }

  /** Builds from many entries in O(n) (Floyd). */
  build(slots: Iterable<number>, version: (slot: number) => number): void {
    for (const slot of slots) this.entries.push({ slot, version: version(slot), keys: this.keysOf(slot) });
    for (let i = (this.entries.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Drops every stale entry and restores the heap order, O(n). */
  compact(): void {
    const a = this.entries;
    let kept = 0;
    for (const e of a) if (this.current(e.slot, e.version)) a[kept++] = e;
    a.length = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** The best current entry's slot (stale entries are discarded on the way), or -1. */
  peek(): number {
    const a = this.entries;
    while (a.length > 0) {
      const top = a[0] as Entry;
      if (this.current(top.slot, top.version)) return top.slot;
      const last = a.pop() as Entry;
      if (a.length > 0) {
        a[0] = last;
        this.down(0);
      }
    }
    return -1;
  }

  /** The keys of the best current entry (call after peek() returned a slot). */
  topKeys(): readonly number[] {
    return (this.entries[0] as Entry).keys;
  }

  private down(i: number): void {
    const a = this.entries;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) return;
      const r = l + 1;
      const m = r < a.length && less(a[r] as Entry, a[l] as Entry) ? r : l;
      if (!less(a[m] as Entry, a[i] as Entry)) return;
      [a[i], a[m]] = [a[m] as Entry, a[i] as Entry];
      i = m;
    }
  }
}

type Entry = { slot: number; version: number; keys: number[] };

/** Lexicographic on the keys, then the lower slot (ARN order) wins. */
function less(a: Entry, b: Entry): boolean {
  return compareKeys(a.keys, a.slot, b.keys, b.slot) < 0;
}

export function compareKeys(ak: readonly number[], as: number, bk: readonly number[], bs: number): number {
  for (let k = 0; k < ak.length; k++) {
    const x = ak[k] as number;
    const y = bk[k] as number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return as - bs;
}
