import { Worker } from 'node:worker_threads';
import type { GuardOptions, SmallWrite } from './extract-write.ts';
import type { WireBatch, WireResult, WireWrite } from './extract-worker.ts';

/** A batch is sent at this many files or bytes, whichever comes first. */
const BATCH_FILES = 512;
const BATCH_BYTES = 2 << 20;
/** Batches handed over and not yet answered; the main thread waits beyond this (bounded memory). */
const MAX_IN_FLIGHT = 2;

export interface WriteTag {
  rel: string;
  entryName: string;
}

/**
 * Starts the writer module on a thread. Compiled, it is plain JavaScript. From the TypeScript
 * sources (tests, the bench) the thread first registers the same loader the process runs under,
 * since a worker does not inherit it; that start takes a moment, and the main thread keeps writing
 * by itself until the thread reports ready.
 */
function startWorker(guard: GuardOptions): Worker {
  const opts = { workerData: guard, execArgv: [], stdout: false, stderr: false };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./extract-worker.js', import.meta.url), opts);
  const api = import.meta.resolve('tsx/esm/api');
  const file = new URL('./extract-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`, { ...opts, eval: true });
}

/**
 * The main thread's side of the small-file writer thread. Small files are queued with a tag; each
 * answered batch reports, per file, the bytes written or why it was refused, through `onResult`.
 */
export class WriterThread {
  readonly #worker: Worker;
  #ready = false;
  #dead = false;
  #nextId = 1;
  #writes: WireWrite[] = [];
  #tags: WriteTag[] = [];
  #chunks: Buffer[] = [];
  #bytes = 0;
  readonly #inFlight = new Map<number, WriteTag[]>();
  #waiters: Array<() => void> = [];
  #error: Error | null = null;
  readonly #onResult: (tag: WriteTag, r: WireResult | null) => void;

  constructor(guard: GuardOptions, onResult: (tag: WriteTag, r: WireResult | null) => void) {
    this.#onResult = onResult;
    this.#worker = startWorker(guard);
    this.#worker.on('message', (m: 'ready' | { id: number; results: WireResult[] }) => {
      if (m === 'ready') this.#ready = true;
      else {
        const tags = this.#inFlight.get(m.id) ?? [];
        this.#inFlight.delete(m.id);
        // Files after a batch's fatal result were never written: null.
        tags.forEach((t, i) => this.#onResult(t, m.results[i] ?? null));
      }
      this.#wake();
    });
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the file writer thread stopped (exit code ${code})`)));
  }

  /** Until the thread has loaded, the main thread keeps writing by itself. */
  get ready(): boolean {
    return this.#ready && !this.#error;
  }

  /** Resolves once the thread has loaded or failed to. */
  async whenReady(): Promise<void> {
    while (!this.#ready && !this.#error && !this.#dead) await this.#wait();
  }

  async add(tag: WriteTag, w: SmallWrite): Promise<void> {
    let len = 0;
    for (const c of w.data) {
      this.#chunks.push(c);
      len += c.length;
    }
    this.#writes.push({ abs: w.abs, parentAbs: w.parentAbs, shown: w.shown, mode: w.mode, mtime: w.mtime, off: this.#bytes, len });
    this.#tags.push(tag);
    this.#bytes += len;
    if (this.#writes.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES) await this.flush();
  }

  /** Sends the queued files; waits first while MAX_IN_FLIGHT batches are unanswered. */
  async flush(): Promise<void> {
    if (this.#writes.length === 0) return;
    while (this.#inFlight.size >= MAX_IN_FLIGHT && !this.#error) await this.#wait();
    if (this.#error) throw this.#error;
    // One copy into a buffer of its own, transferred: the inflated chunks stay with the parser.
    const data = new Uint8Array(this.#bytes);
    let off = 0;
    for (const c of this.#chunks) {
      data.set(c, off);
      off += c.length;
    }
    const batch: WireBatch = { id: this.#nextId++, writes: this.#writes, data };
    this.#inFlight.set(batch.id, this.#tags);
    this.#writes = [];
    this.#tags = [];
    this.#chunks = [];
    this.#bytes = 0;
    this.#worker.postMessage(batch, [data.buffer]);
  }

  /** Sends what is queued and waits until every batch is answered. */
  async drain(): Promise<void> {
    await this.flush();
    while (this.#inFlight.size > 0 && !this.#error) await this.#wait();
    if (this.#error) throw this.#error;
  }

  async close(): Promise<void> {
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
