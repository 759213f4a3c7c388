import { readFileSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { createInflateRaw, deflateRaw } from "node:zlib";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { snapshotKeys } from "../../events/names.ts";
import type { LogFollower } from "../store/log-follower.ts";
import type { ReadModel } from "./read-model.ts";
import { encodeSnapshot, SNAPSHOT_FORMAT, SnapshotDecoder, type SnapshotHeader } from "./snapshot-codec.ts";

/**
 * Read-model snapshots in KV (buckets.snapshots), to shorten replay: a control plane starts from
 * the newest snapshot and folds only the events after it. The log stays the truth; a snapshot
 * that is missing, from another version, or unreadable is ignored and the whole log replayed.
 *
 *   readmodel.manifest        { format, app, seq, at, generation, chunks, bytes }
 *   readmodel.<generation>.N  the document (snapshot-codec.ts), deflated, in chunks under NATS's
 *                             message limit; `bytes` is their total
 *
 * Deflated because the document repeats itself (ARN prefixes, field values shared by many tasks):
 * it shrinks about fifteen times, and reading 90 MB of chunks from KV took longer than inflating
 * (in libuv's thread pool) and decoding them.
 *
 * A new generation's chunks are written before the manifest that names it, and the previous
 * generation's are purged after, so a reader never sees a half-written snapshot.
 */

/** Chunks stay well under NATS's default 1 MB message limit. */
const CHUNK_BYTES = 900_000;
/** Chunk puts and gets in flight at once. */
const PARALLEL = 16;
/** zlib's level 3: within a few percent of the default level's size, in half its time. */
const DEFLATE_LEVEL = 3;
/**
 * zlib's output chunk (default 16 kB): each chunk is a round trip between the thread pool and
 * the event loop, and 90 MB of 16 kB chunks made inflating several times slower than the work
 * itself; a megabyte is still small enough for the decoder to start early.
 */
const ZLIB_CHUNK_BYTES = 1 << 20;
const deflate = promisify(deflateRaw);

export const APP_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "0";
  } catch {
    return "0";
  }
})();

interface Manifest extends SnapshotHeader {
  generation: number;
  chunks: number;
  bytes: number;
}

export class SnapshotStore {
  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    /** Largest chunk written (tests make it small to read a snapshot back from many). */
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  /**
   * Fills the fresh `model` from the newest usable snapshot and returns its header; undefined
   * (the model untouched: replay everything) when there is none it can use.
   */
  async load(model: ReadModel): Promise<(SnapshotHeader & { bytes: number }) | undefined> {
    let manifest: Manifest;
    try {
      const e = await this.kv.get(snapshotKeys.manifest);
      if (e?.operation !== "PUT") return undefined;
      manifest = e.json<Manifest>();
    } catch (err) {
      this.log.warn({ err }, "snapshot manifest unreadable; replaying the whole log");
      return undefined;
    }
    if (manifest.format !== SNAPSHOT_FORMAT || manifest.app !== APP_VERSION) {
      this.log.info({ format: manifest.format, app: manifest.app }, "snapshot from another version ignored; replaying the whole log");
      return undefined;
    }
    try {
      const decoder = new SnapshotDecoder();
      const bytes = await this.read(manifest, decoder);
      if (bytes !== manifest.bytes) throw new Error(`snapshot is ${bytes} bytes, its manifest says ${manifest.bytes}`);
      const { header, adopt } = decoder.end();
      if (header.seq !== manifest.seq) throw new Error("snapshot and manifest disagree on the log position");
      adopt(model);
      return { ...header, bytes };
    } catch (err) {
      this.log.warn({ err, seq: manifest.seq }, "snapshot unusable; replaying the whole log");
      return undefined;
    }
  }

  /**
   * Fetches the chunks (PARALLEL at a time) and inflates them, in order, into `decoder` as they
   * arrive: decoding the text inflated so far overlaps fetching and inflating the rest. Returns the
   * number of bytes read.
   */
  private async read(manifest: Manifest, decoder: SnapshotDecoder): Promise<number> {
    const inflater = createInflateRaw({ chunkSize: ZLIB_CHUNK_BYTES });
    const utf8 = new StringDecoder("utf8");
    const decoded = (async () => {
      for await (const piece of inflater) decoder.push(utf8.write(piece as Buffer));
      decoder.push(utf8.end());
    })();
    decoded.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    const parts: (Uint8Array | undefined)[] = new Array(manifest.chunks);
    let next = 0;
    let bytes = 0;
    try {
      await inParallel(manifest.chunks, async (n) => {
        const e = await this.kv.get(snapshotKeys.chunk(manifest.generation, n));
        if (e?.operation !== "PUT") throw new Error(`snapshot chunk ${n} of ${manifest.chunks} missing`);
        parts[n] = e.value;
        for (let part = parts[next]; part !== undefined && !inflater.destroyed; part = parts[next]) {
          inflater.write(part);
          bytes += part.length;
          parts[next++] = undefined;
        }
      });
      if (!inflater.destroyed) inflater.end();
    } catch (err) {
      inflater.destroy();
      throw err;
    }
    await decoded;
    return bytes;
  }

  /**
   * Writes a snapshot of `model` at log position `seq`: the model must be exactly there when this is
   * called (it is encoded before the first await, so later folds do not leak into it).
   */
  async save(model: ReadModel, seq: number, at: number): Promise<number> {
    const text = encodeSnapshot(model, { format: SNAPSHOT_FORMAT, app: APP_VERSION, seq, at });
    const data = await deflate(Buffer.from(text, "utf8"), { level: DEFLATE_LEVEL, chunkSize: ZLIB_CHUNK_BYTES });
    const previous = await this.kv.get(snapshotKeys.manifest).catch(() => null);
    const old = previous?.operation === "PUT" ? previous.json<Manifest>() : undefined;
    // The log position names the generation; writing the same position again rewrites the same keys.
    const generation = seq;
    const size = this.chunkBytes;
    const chunks = Math.max(1, Math.ceil(data.length / size));
    await inParallel(chunks, async (n) => {
      await this.kv.put(snapshotKeys.chunk(generation, n), data.subarray(n * size, (n + 1) * size));
    });
    const manifest: Manifest = { format: SNAPSHOT_FORMAT, app: APP_VERSION, seq, at, generation, chunks, bytes: data.length };
    await this.kv.put(snapshotKeys.manifest, JSON.stringify(manifest));
    if (old && old.generation !== generation) {
      await inParallel(old.chunks, async (n) => {
        await this.kv.purge(snapshotKeys.chunk(old.generation, n)).catch(() => {});
      });
    }
    return data.length;
  }
}

async function inParallel(n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

export interface SnapshotterOptions {
  model: ReadModel;
  store: SnapshotStore;
  follower: LogFollower;
  /** Every intent of the events folded so far has been executed (the reactor has nothing queued). */
  intentsDone: () => boolean;
  /** Only the scheduler-lease holder writes snapshots (one writer). */
  leading: () => boolean;
  log: Logger;
  clock: () => number;
  /** Write one when this many events were folded since the last (default 500,000). */
  everyEvents?: number;
  /** And not more often than this (default 5 minutes). */
  minIntervalMs?: number;
}

/**
 * When to write a snapshot: after a start-up replay that folded many events, and then every
 * `everyEvents` events. Encoding blocks the event loop while it runs (about a second per 100,000
 * tasks), which is why it is rare. It waits until the reactor has executed every intent of the
 * events it covers, so a restart from it never loses a directive; that is also what lets the
 * reactor's checkpoint move up to the snapshot's position on the next start.
 */
export class Snapshotter {
  private lastSeq = 0;
  private lastAt = 0;
  private writing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: SnapshotterOptions) {}

  /** The position of the snapshot the model was loaded from (0: none). */
  loaded(seq: number) {
    this.lastSeq = seq;
    this.lastAt = this.o.clock();
  }

  /** The start-up replay is done: write at once if it had to fold many events. */
  caughtUp(replayed: number, threshold = 50_000) {
    if (replayed >= threshold) this.request(true);
  }

  /** Called after each folded event. */
  folded(seq: number) {
    if (seq - this.lastSeq >= (this.o.everyEvents ?? 500_000)) this.request(false);
  }

  private request(now: boolean) {
    if (this.writing || this.retry || this.stopped) return;
    if (!now && this.o.clock() - this.lastAt < (this.o.minIntervalMs ?? 5 * 60_000)) return;
    if (!this.o.leading() || !this.o.intentsDone()) {
      // Try again shortly: the reactor is busy or this process does not lead.
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.request(now);
      }, 1_000);
      this.retry.unref();
      return;
    }
    const seq = this.o.follower.seq;
    this.writing = (async () => {
      const started = performance.now();
      try {
        const bytes = await this.o.store.save(this.o.model, seq, this.o.clock());
        this.lastSeq = seq;
        this.lastAt = this.o.clock();
        this.o.log.info({ seq, bytes, ms: Math.round(performance.now() - started) }, "read-model snapshot written");
      } catch (err) {
        this.o.log.warn({ err, seq }, "read-model snapshot not written");
      } finally {
        this.writing = undefined;
      }
    })();
  }

  /** Waits for a snapshot being written; writes no more. */
  async stop() {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.writing;
  }
}
