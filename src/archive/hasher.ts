import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { ChecksumType } from './types.ts';

/** Below this much output the archive is hashed inline at the end: a worker would cost more to start. */
const INLINE_MAX = 4 << 20;
/** Shared slots the bytes travel through: fixed memory, nothing transferred or left for a GC. */
const SLOT = 1 << 20;
const SLOTS = 8;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const hash = require('node:crypto').createHash(workerData.type);
const views = workerData.slots.map((s) => new Uint8Array(s));
parentPort.on('message', (m) => {
  if (m === 'digest') return parentPort.postMessage({ digest: hash.digest('hex') });
  hash.update(views[m[0]].subarray(0, m[1]));
  parentPort.postMessage(m[0]);
});`;

/**
 * The archive's checksum, computed on a worker thread once the output is large. SHA-256 runs at
 * 80–150 MB/s on this class of machine (no SHA extensions), so hashing a 180 MB archive on the main
 * thread took ~1 s of the thread that also walks the tree and feeds the compressors; on its own
 * thread it overlaps with both. The bytes are copied into eight shared 1 MiB slots, enough lead for a
 * worker thread the scheduler keeps waiting on a loaded machine (transferring
 * buffers instead left ~75 MiB of them waiting for the worker's GC).
 */
export class Hasher {
  readonly #type: ChecksumType;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #worker: Worker | null = null;
  #views: Uint8Array[] = [];
  #free: number[] = [];
  #slot = -1;
  #fill = 0;
  #error: Error | null = null;
  #waiters: Array<() => void> = [];
  #digest: ((hex: string) => void) | null = null;

  constructor(type: ChecksumType) {
    this.#type = type;
  }

  /** Takes `buf` into the hash; resolves once it may be reused (it is copied or held until then). */
  async update(buf: Buffer): Promise<void> {
    if (buf.length === 0) return;
    if (!this.#worker) {
      this.#held.push(buf);
      this.#heldBytes += buf.length;
      if (this.#heldBytes < INLINE_MAX) return;
      this.#start();
      const held = this.#held;
      this.#held = [];
      for (const b of held) await this.#feed(b);
      return;
    }
    await this.#feed(buf);
  }

  async digest(): Promise<string> {
    if (!this.#worker) {
      const h = createHash(this.#type);
      for (const b of this.#held) h.update(b);
      this.#held = [];
      return h.digest('hex');
    }
    this.#post();
    const worker = this.#worker;
    try {
      return await new Promise<string>((resolve, reject) => {
        this.#digest = resolve;
        this.#waiters.push(() => this.#error && reject(this.#error));
        if (this.#error) reject(this.#error);
        else worker.postMessage('digest');
      });
    } finally {
      this.close();
    }
  }

  close(): void {
    const w = this.#worker;
    this.#worker = null;
    if (w) void w.terminate();
  }

  async #feed(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      if (this.#slot < 0) {
        while (this.#free.length === 0 && !this.#error) await new Promise<void>((r) => this.#waiters.push(r));
        if (this.#error) throw this.#error;
        this.#slot = this.#free.pop()!;
        this.#fill = 0;
      }
      const n = Math.min(buf.length - off, SLOT - this.#fill);
      buf.copy(this.#views[this.#slot]!, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === SLOT) this.#post();
    }
  }

  #post(): void {
    if (this.#slot < 0) return;
    this.#worker!.postMessage([this.#slot, this.#fill]);
    this.#slot = -1;
  }

  #start(): void {
    const slots = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(SLOT));
    this.#views = slots.map((s) => new Uint8Array(s));
    this.#free = slots.map((_, i) => i);
    // No loaders or flags of the parent: the worker is plain JavaScript.
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { type: this.#type, slots }, execArgv: [], env: {}, stdout: false, stderr: false });
    w.unref();
    w.on('message', (m: number | { digest: string }) => {
      if (typeof m === 'number') {
        this.#free.push(m);
        this.#wake();
      } else this.#digest?.(m.digest);
    });
    w.on('error', (err) => this.#fail(err));
    w.on('exit', (code) => {
      if (this.#worker === w) this.#fail(new Error(`the checksum worker stopped (exit code ${code})`));
    });
    this.#worker = w;
  }

  #fail(err: Error): void {
    this.#error ??= err;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
