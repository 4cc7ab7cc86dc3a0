import * as fs from 'node:fs';
import { ArchiveError } from './archive-error.ts';
import { Skip, UMASK, type Place, type TargetGuard } from './extract-write.ts';
import type { BatchReply, BatchTags, SmallFileWriter } from './extract-writer.ts';
import type { NativeFs } from './native-fs.ts';

/** Numbers per file in a batch's meta (native/src/backwing_fs.c BATCH_META). */
const BATCH_FIELDS = 6;
/** A batch is closed at this many files, bytes or directories, whichever comes first. */
const BATCH_FILES = 512;
const BATCH_BYTES = 2 << 20;
/** Each directory of a batch holds one duplicated descriptor until the batch is written. */
const BATCH_DIRS = 64;
/** Closed batches waiting behind the one being written; add() waits beyond this (bounded memory). */
const MAX_QUEUED = 2;
/** Bytes of closed batches not yet written; add() waits beyond this too (files of several MiB). */
const MAX_QUEUED_BYTES = 8 << 20;
/** What an empty file points at: a row must name a buffer. */
const NO_BYTES = new Uint8Array(0);

interface Batch {
  tags: BatchTags;
  /** Duplicated descriptors of the batch's checked directories, and their paths (for writeSmall). */
  dirfds: number[];
  dirPaths: string[];
  dirIndex: Map<string, number>;
  names: string[];
  meta: Float64Array;
  /** Whole ArrayBuffers the files' bytes lie in (as Uint8Arrays): referenced, never copied. */
  bufs: Uint8Array[];
  lastAb: ArrayBufferLike | null;
  n: number;
  bytes: number;
}

/**
 * Small files written on the libuv threadpool by the native addon (writeBatch), straight from the
 * inflated buffers this thread already holds: no copy into a batch buffer, no message cloning and
 * no second V8 isolate, which is what the writer thread (extract-writer.ts) costs. On the small
 * bench tree (54,204 files) that thread's isolate, its copy and its messages were ~0.3 CPU-s of a
 * CPU-bound extraction on 2 cores (figures: docs/benchmarks.md).
 *
 * Same contract as the writer thread: batches are written strictly in order, one at a time; a
 * file the addon leaves (anything but a fresh create or a plain file reused in place) is written
 * here by TargetGuard.writeSmall before the rest of its batch goes on, so refusals and errors stay
 * the JavaScript path's; a batch stops at its first failure, as in-order extraction would. Each
 * directory is held and checked by the guard when its first file is queued (after beforeOpen), as
 * for a file written here, and the batch writes into a duplicate of that checked descriptor.
 */
export class NativeWriter implements SmallFileWriter {
  readonly ready = true;
  readonly #nfs: NativeFs;
  readonly #guard: TargetGuard;
  readonly #uid: number;
  readonly #gid: number;
  readonly #onBatch: (tags: BatchTags, r: BatchReply) => void;
  #nextId = 1;
  #open: Batch | null = null;
  readonly #queue: Batch[] = [];
  #running: Promise<void> | null = null;
  #waiters: Array<() => void> = [];
  #error: Error | null = null;
  /** Bytes of the batches in #queue (the one being written included). */
  #queuedBytes = 0;
  /** A batch stopped at a failure: later ones are released unwritten (in-order extraction stops there). */
  #stopped = false;

  constructor(nfs: NativeFs, guard: TargetGuard, owner: { uid: number; gid: number } | null, onBatch: (tags: BatchTags, r: BatchReply) => void) {
    this.#nfs = nfs;
    this.#guard = guard;
    this.#uid = owner?.uid ?? -1;
    this.#gid = owner?.gid ?? -1;
    this.#onBatch = onBatch;
  }

  /** The id of the batch a file queued now goes into (the open one, or the next one opened). */
  get batchId(): number {
    return this.#open ? this.#open.tags.id : this.#nextId;
  }

  async whenReady(): Promise<void> {}

  /** Only names that are strings: a name that is not UTF-8 is written by the caller. */
  accepts(place: Place): boolean {
    return typeof place.dir === 'string' && typeof place.name === 'string';
  }

  /**
   * Queues one file (its directory is held and checked now: a swapped one throws here, before
   * anything of this file is queued); returns a promise only when the caller has to wait.
   */
  add(rel: string, entryName: string, place: Place, mode: number, mtime: number, data: Buffer[]): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    const dir = place.dir as string;
    let b = this.#open;
    let d = b?.dirIndex.get(dir);
    if (d === undefined) {
      const fd = this.#guard.dupHeld(this.#nfs, place);
      if (!b) b = this.#open = this.#newBatch();
      d = b.dirfds.length;
      b.dirfds.push(fd);
      b.dirPaths.push(dir);
      b.dirIndex.set(dir, d);
    }
    b = b!;
    // One view per file's ArrayBuffer; a file cut across two inflated chunks is joined (one per chunk at most).
    const bytes = data.length === 0 ? NO_BYTES : data.length === 1 ? data[0]! : Buffer.concat(data);
    const ab = bytes.buffer;
    let bi = b.lastAb === ab ? b.bufs.length - 1 : -1;
    if (bi < 0) {
      bi = b.bufs.length;
      b.bufs.push(new Uint8Array(ab));
      b.lastAb = ab;
    }
    const k = b.n * BATCH_FIELDS;
    const meta = b.meta;
    meta[k] = d;
    meta[k + 1] = mode;
    meta[k + 2] = mtime;
    meta[k + 3] = bi;
    meta[k + 4] = bytes.byteOffset;
    meta[k + 5] = bytes.byteLength;
    b.names.push(place.name as string);
    b.tags.rels.push(rel);
    b.tags.entryNames.push(entryName);
    b.n++;
    b.bytes += bytes.byteLength;
    if (b.n >= BATCH_FILES || b.bytes >= BATCH_BYTES || b.dirfds.length >= BATCH_DIRS) return this.flush();
    return undefined;
  }

  /** Closes the open batch and starts it (or queues it behind the one being written). */
  flush(): Promise<void> | undefined {
    const b = this.#open;
    if (b && b.n > 0) {
      this.#open = null;
      this.#queue.push(b);
      this.#queuedBytes += b.bytes;
      this.#running ??= this.#runQueue();
    }
    if (this.#error) return Promise.reject(this.#error);
    return this.#full() ? this.#waitWhile(() => this.#full()) : undefined;
  }

  #full(): boolean {
    return this.#queue.length > MAX_QUEUED || (this.#queue.length > 1 && this.#queuedBytes > MAX_QUEUED_BYTES);
  }

  /** Writes everything queued; resolves when every batch is answered. */
  async drain(): Promise<void> {
    await this.flush();
    await this.#waitWhile(() => this.#queue.length > 0 || this.#running !== null);
    if (this.#error) throw this.#error;
  }

  async close(): Promise<void> {
    this.#error ??= new Error('closed');
    const open = this.#open;
    this.#open = null;
    if (open) closeAll(open.dirfds);
    // A batch being written keeps its buffers and descriptors until the addon answers.
    while (this.#running) await this.#running;
  }

  #newBatch(): Batch {
    const id = this.#nextId++;
    return { tags: { id, rels: [], entryNames: [] }, dirfds: [], dirPaths: [], dirIndex: new Map(), names: [], meta: new Float64Array(BATCH_FILES * BATCH_FIELDS), bufs: [], lastAb: null, n: 0, bytes: 0 };
  }

  async #waitWhile(busy: () => boolean): Promise<void> {
    while (busy() && !this.#error) await new Promise<void>((r) => this.#waiters.push(r));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #runQueue(): Promise<void> {
    try {
      for (let b = this.#queue[0]; b; b = this.#queue[0]) {
        // After a failure nothing more is written (the extraction is failing), only released.
        const reply = this.#error || this.#stopped ? null : await this.#write(b);
        if (reply?.fatal) this.#stopped = true;
        this.#queue.shift();
        this.#queuedBytes -= b.bytes;
        closeAll(b.dirfds);
        if (reply) this.#onBatch(b.tags, reply);
        this.#wake();
      }
    } finally {
      this.#running = null;
      this.#wake();
    }
  }

  /** One batch, in order: runs of files through the addon, each file it leaves through writeSmall. */
  async #write(b: Batch): Promise<BatchReply> {
    const reply: BatchReply = { bytes: 0, skips: [], fatal: null };
    const names = b.names.join('/');
    const dirfds = Int32Array.from(b.dirfds);
    const meta = b.meta;
    let i = 0;
    while (i < b.n) {
      let stop: number;
      try {
        stop = await this.#nfs.writeBatch(dirfds, names, meta, b.bufs, i, b.n, UMASK, this.#uid, this.#gid);
      } catch (err) {
        this.#error ??= err as Error;
        reply.fatal = { index: i, error: (err as Error).message };
        break;
      }
      for (; i < stop; i++) reply.bytes += meta[i * BATCH_FIELDS + 5]!;
      if (i === b.n) break;
      const k = i * BATCH_FIELDS;
      const buf = b.bufs[meta[k + 3]!]!;
      const off = meta[k + 4]!;
      try {
        const data = Buffer.from(buf.buffer, buf.byteOffset + off, meta[k + 5]!);
        reply.bytes += this.#guard.writeSmall({ dir: b.dirPaths[meta[k]!]!, name: b.names[i]!, mode: meta[k + 1]!, mtime: meta[k + 2]!, data: [data] });
      } catch (err) {
        if (err instanceof Skip) reply.skips.push([i, err.message]);
        else {
          const unsafe = err instanceof ArchiveError && err.code === 'E_ARCHIVE_UNSAFE';
          reply.fatal = unsafe ? { index: i, unsafe: (err as Error).message } : { index: i, error: (err as Error).message };
          break;
        }
      }
      i++;
    }
    return reply;
  }
}

function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
  fds.length = 0;
}
