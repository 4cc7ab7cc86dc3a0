import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from './module-worker.ts';
import { SMALL_FILE_MAX } from './extract-actions.ts';
import { META_FIELDS, type GuardOptions, type Place } from './extract-write.ts';
import type { WireBatch, WireReply } from './extract-worker.ts';

/** A batch is sent at this many files or bytes, whichever comes first. */
const BATCH_FILES = 512;
const BATCH_BYTES = 2 << 20;
/** Room for a full batch plus one more small file: every batch fits one buffer. */
const BUFFER_BYTES = BATCH_BYTES + SMALL_FILE_MAX;
/** Batches handed over and not yet answered; the main thread waits beyond this (bounded memory). */
const MAX_IN_FLIGHT = 2;

/** The files of one batch, in order, as the main thread knows them. */
export interface BatchTags {
  id: number;
  rels: string[];
  entryNames: string[];
}

/** What a writer answers for one batch (the files by their index in it). */
export type BatchReply = Pick<WireReply, 'bytes' | 'skips' | 'fatal'>;

/** Where the extractor queues whole small files: this thread, or the addon (extract-native-writer.ts). */
export interface SmallFileWriter {
  readonly ready: boolean;
  /** The id the next batch will have: what a file queued now will be answered under. */
  readonly batchId: number;
  whenReady(): Promise<void>;
  /** Whether this writer takes a file at `place` (else the caller writes it, after draining). */
  accepts(place: Place): boolean;
  add(rel: string, entryName: string, place: Place, mode: number, mtime: number, data: Buffer[]): Promise<void> | undefined;
  flush(): Promise<void> | undefined;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The writer module on a thread. From the TypeScript sources its start takes a moment (it registers
 * the loader first), and the main thread keeps writing by itself until the thread reports ready.
 */
function startWorker(guard: GuardOptions): Worker {
  return startModuleWorker('extract-worker', guard);
}

/**
 * The main thread's side of the small-file writer thread. Small files are copied into a batch
 * buffer (buffers come back with the answers and are reused, so no fresh memory per batch); each
 * answered batch is reported whole through `onBatch`.
 */
export class WriterThread implements SmallFileWriter {
  readonly #worker: Worker;
  #ready = false;
  #dead = false;
  #closed = false;
  #nextId = 1;
  #dirs: Array<string | Buffer> = [];
  #lastDir: string | Buffer | null = null;
  #names: Array<string | Buffer> = [];
  #meta = new Float64Array(BATCH_FILES * META_FIELDS);
  #tags: BatchTags = { id: 0, rels: [], entryNames: [] };
  #buf: Uint8Array | null = null;
  #bytes = 0;
  readonly #free: ArrayBuffer[] = [];
  readonly #inFlight = new Map<number, BatchTags>();
  #waiters: Array<() => void> = [];
  #error: Error | null = null;
  readonly #onBatch: (tags: BatchTags, r: WireReply) => void;

  constructor(guard: GuardOptions, onBatch: (tags: BatchTags, r: WireReply) => void) {
    this.#onBatch = onBatch;
    this.#worker = startWorker(guard);
    this.#worker.on('message', (m: 'ready' | 'closed' | WireReply) => {
      if (m === 'ready') this.#ready = true;
      else if (m === 'closed') this.#closed = true;
      else {
        const tags = this.#inFlight.get(m.id)!;
        this.#inFlight.delete(m.id);
        if (this.#free.length < MAX_IN_FLIGHT + 1) this.#free.push(m.data);
        this.#onBatch(tags, m);
      }
      this.#wake();
    });
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => {
      this.#closed = true;
      this.#fail(new Error(`the file writer thread stopped (exit code ${code})`));
    });
  }

  /** Until the thread has loaded, the main thread keeps writing by itself. */
  get ready(): boolean {
    return this.#ready && !this.#error;
  }

  /** The id the next batch will have: what a file queued now will be answered under. */
  get batchId(): number {
    return this.#nextId;
  }

  accepts(): boolean {
    return true;
  }

  /** Resolves once the thread has loaded or failed to. */
  async whenReady(): Promise<void> {
    while (!this.#ready && !this.#error && !this.#dead) await this.#wait();
  }

  /** Queues one file; returns a promise only when the caller has to wait (a batch went out). */
  add(rel: string, entryName: string, place: Place, mode: number, mtime: number, data: Buffer[]): Promise<void> | undefined {
    let len = 0;
    for (const c of data) len += c.length;
    if (this.#buf && this.#bytes + len > this.#buf.length) return this.flush().then(() => this.add(rel, entryName, place, mode, mtime, data));
    if (!this.#buf) {
      this.#buf = new Uint8Array(this.#free.pop() ?? new ArrayBuffer(BUFFER_BYTES));
      this.#bytes = 0;
    }
    const off = this.#bytes;
    for (const c of data) {
      this.#buf.set(c, this.#bytes);
      this.#bytes += c.length;
    }
    if (place.dir !== this.#lastDir) {
      this.#dirs.push(place.dir);
      this.#lastDir = place.dir;
    }
    const k = this.#names.length * META_FIELDS;
    const meta = this.#meta;
    meta[k] = this.#dirs.length - 1;
    meta[k + 1] = mode;
    meta[k + 2] = mtime;
    meta[k + 3] = off;
    meta[k + 4] = len;
    this.#names.push(place.name);
    this.#tags.rels.push(rel);
    this.#tags.entryNames.push(entryName);
    if (this.#names.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES) return this.flush();
    return undefined;
  }

  /** Sends the queued files; waits first while MAX_IN_FLIGHT batches are unanswered. */
  async flush(): Promise<void> {
    if (this.#names.length === 0) return;
    while (this.#inFlight.size >= MAX_IN_FLIGHT && !this.#error) await this.#wait();
    if (this.#error) throw this.#error;
    const data = this.#buf!.buffer as ArrayBuffer;
    const id = this.#nextId++;
    const batch: WireBatch = { id, dirs: this.#dirs, names: this.#names, meta: this.#meta.subarray(0, this.#names.length * META_FIELDS), data };
    this.#inFlight.set(id, { ...this.#tags, id });
    this.#dirs = [];
    this.#lastDir = null;
    this.#names = [];
    this.#tags = { id: 0, rels: [], entryNames: [] };
    this.#buf = null;
    this.#bytes = 0;
    this.#worker.postMessage(batch, [data]);
  }

  /** Sends what is queued and waits until every batch is answered. */
  async drain(): Promise<void> {
    await this.flush();
    while (this.#inFlight.size > 0 && !this.#error) await this.#wait();
    if (this.#error) throw this.#error;
  }

  /** Lets the thread close the directories it holds, then stops it. */
  async close(): Promise<void> {
    if (!this.#closed && this.#ready) {
      this.#worker.postMessage('close');
      while (!this.#closed) await this.#wait();
    }
    this.#error ??= new Error('closed');
    await this.#worker.terminate();
  }

  #wait(): Promise<void> {
    return new Promise<void>((r) => this.#waiters.push(r));
  }

  #fail(err: Error): void {
    // A thread that never took a batch lost nothing: the main thread simply keeps writing.
    if (this.#nextId === 1) {
      this.#ready = false;
      this.#dead = true;
    } else this.#error ??= err;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
