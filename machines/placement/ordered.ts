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
 *
 * Entries are kept in typed arrays (slot, version, and `width` keys each): a control plane keeps
 * heaps per distinct demand (one per bucket of a spread), each holding stale entries until it is
 * compacted, and an object and a keys array per entry came to ~125 bytes of heap each (48 MB for
 * 100,000 tasks placed on 10,000 instances); here an entry is 8 + 8 × width bytes, a push
 * allocates nothing, and the arrays shrink again when a compaction leaves them mostly empty.
 */
export class SlotHeap {
  private slots: Int32Array;
  private versions: Int32Array;
  private keys: Float64Array;
  private n = 0;
  /** Entries the last build or compaction left: all current then. */
  private kept = 0;

  /**
   * @param width keys per entry
   * @param keysOf writes a slot's current keys into `out` from index `at` (width of them)
   */
  constructor(
    private readonly width: number,
    private readonly keysOf: (slot: number, out: Float64Array, at: number) => void,
    private readonly current: (slot: number, version: number) => boolean,
  ) {
    this.slots = new Int32Array(16);
    this.versions = new Int32Array(16);
    this.keys = new Float64Array(16 * width);
  }

  get length(): number {
    return this.n;
  }

  push(slot: number, version: number): void {
    this.append(slot, version);
    let i = this.n - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Builds from many entries in O(n) (Floyd). */
  build(slots: Iterable<number>, version: (slot: number) => number): void {
    for (const slot of slots) this.append(slot, version(slot));
    this.kept = this.n;
    for (let i = (this.n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /**
   * Compacts once entries pushed since the last compaction outnumber twice those it kept, plus
   * `slack`: stale entries pile up across placements (every charged instance is pushed again), and
   * compaction is O(n), so this keeps both the heap's size and the work per push bounded.
   */
  compactIfStale(slack = 1024): void {
    if (this.n > 2 * this.kept + slack) this.compact();
  }

  /** Drops every stale entry and restores the heap order, O(n). */
  private compact(): void {
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.current(this.slots[i] as number, this.versions[i] as number)) continue;
      if (kept !== i) this.move(i, kept);
      kept++;
    }
    this.n = kept;
    this.kept = kept;
    if (this.slots.length > 4 * kept + 64) this.resize(2 * kept + 16);
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** The best current entry's slot (stale entries are discarded on the way), or -1. */
  peek(): number {
    while (this.n > 0) {
      const slot = this.slots[0] as number;
      if (this.current(slot, this.versions[0] as number)) return slot;
      this.n--;
      if (this.n > 0) {
        this.move(this.n, 0);
        this.down(0);
      }
    }
    return -1;
  }

  /** The keys of the best current entry (call after peek() returned a slot). */
  topKeys(): Float64Array {
    return this.keys.subarray(0, this.width);
  }

  private append(slot: number, version: number): void {
    if (this.n === this.slots.length) this.resize(this.slots.length * 2);
    this.slots[this.n] = slot;
    this.versions[this.n] = version;
    this.keysOf(slot, this.keys, this.n * this.width);
    this.n++;
  }

  /** New arrays for `cap` entries (cap ≥ n), the entries copied over. */
  private resize(cap: number): void {
    const slots = new Int32Array(cap);
    slots.set(this.slots.subarray(0, this.n));
    const versions = new Int32Array(cap);
    versions.set(this.versions.subarray(0, this.n));
    const keys = new Float64Array(cap * this.width);
    keys.set(this.keys.subarray(0, this.n * this.width));
    this.slots = slots;
    this.versions = versions;
    this.keys = keys;
  }

  /** Entry `from` copied over entry `to`. */
  private move(from: number, to: number): void {
    this.slots[to] = this.slots[from] as number;
    this.versions[to] = this.versions[from] as number;
    this.keys.copyWithin(to * this.width, from * this.width, (from + 1) * this.width);
  }

  private swap(i: number, j: number): void {
    const s = this.slots[i] as number;
    this.slots[i] = this.slots[j] as number;
    this.slots[j] = s;
    const v = this.versions[i] as number;
    this.versions[i] = this.versions[j] as number;
    this.versions[j] = v;
    const k = this.keys;
    for (let a = i * this.width, b = j * this.width, end = a + this.width; a < end; a++, b++) {
      const x = k[a] as number;
      k[a] = k[b] as number;
      k[b] = x;
    }
  }

  /** Lexicographic on the keys, then the lower slot (ARN order) wins. */
  private less(i: number, j: number): boolean {
    const w = this.width;
    const c = compareKeysAt(this.keys, i * w, this.keys, j * w, w);
    return c !== 0 ? c < 0 : (this.slots[i] as number) < (this.slots[j] as number);
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) return;
      const r = l + 1;
      const m = r < this.n && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      this.swap(i, m);
      i = m;
    }
  }
}

/** Two entries' keys, lexicographic, then the lower slot (ARN order). */
export function compareKeys(ak: ArrayLike<number>, as: number, bk: ArrayLike<number>, bs: number): number {
  return compareKeysAt(ak, 0, bk, 0, ak.length) || as - bs;
}

/** `width` keys of `a` from `ai` against those of `b` from `bi`, lexicographic: <0, 0 or >0. */
function compareKeysAt(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number, width: number): number {
  for (let k = 0; k < width; k++) {
    const x = a[ai + k] as number;
    const y = b[bi + k] as number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}
