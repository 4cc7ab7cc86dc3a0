import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortedError, ArchiveError } from './archive-error.ts';
import { Hasher } from './hasher.ts';
import type { ChecksumType } from './types.ts';

/**
 * Paces a byte stream to `rate` bytes/s. Each piece waits until the clock reaches the time at which
 * all bytes so far (including it) are due, so the average over any run never exceeds the rate and
 * stays within one piece of it. Lateness (a busy event loop, a slow consumer) is caught up, but at
 * most `burstMs` of it, so any 10 s window stays within 2.5% of the rate.
 */
export class Pacer {
  readonly rate: number;
  readonly piece: number;
  #start = performance.now();
  #sent = 0;
  readonly #burstMs: number;

  constructor(rate: number, burstMs = 250) {
    this.rate = rate;
    this.#burstMs = burstMs;
    // ~50 pieces per second keeps the error small without a timer per few bytes.
    this.piece = Math.max(1024, Math.min(256 * 1024, Math.floor(rate / 50)));
  }

  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const behind = now - (this.#start + (this.#sent * 1000) / this.rate);
    if (behind > this.#burstMs) this.#start += behind - this.#burstMs;
    this.#sent += n;
    const due = this.#start + (this.#sent * 1000) / this.rate;
    const wait = due - performance.now();
    if (wait >= 1) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        throw abortedError(signal);
      }
    }
  }
}

/** Writes to any Writable with backpressure, hashing, counting and optional pacing in one pass. */
export class OutputSink {
  size = 0;
  readonly #out: Writable;
  /** null: the caller hashes the stored bytes instead (the local backup's read-back, issue 17). */
  readonly #hash: Hasher | null;
  readonly #pacer: Pacer | null;
  readonly #signal?: AbortSignal;
  #error: Error | null = null;
  #waiters: Array<() => void> = [];

  constructor(out: Writable, opts: { checksum: ChecksumType | null; writeLimit?: number; signal?: AbortSignal }) {
    this.#out = out;
    this.#hash = opts.checksum ? new Hasher(opts.checksum) : null;
    this.#pacer = opts.writeLimit && opts.writeLimit > 0 ? new Pacer(opts.writeLimit) : null;
    this.#signal = opts.signal;
    const wake = () => {
      const w = this.#waiters;
      this.#waiters = [];
      for (const f of w) f();
    };
    out.on('drain', wake);
    out.on('error', (err: Error) => {
      this.#error ??= err;
      wake();
    });
    out.on('close', () => {
      this.#error ??= new ArchiveError('E_ARCHIVE_IO', 'output stream closed before the archive was complete');
      wake();
    });
    opts.signal?.addEventListener('abort', wake, { once: true });
  }

  #check(): void {
    if (this.#signal?.aborted) throw abortedError(this.#signal);
    if (this.#error) throw outputError(this.#error);
  }

  async write(buf: Buffer): Promise<void> {
    this.#check();
    if (this.#hash) await this.#hash.update(buf);
    this.size += buf.length;
    if (!this.#pacer) {
      await this.#push(buf);
      return;
    }
    for (let off = 0; off < buf.length; off += this.#pacer.piece) {
      const piece = buf.subarray(off, Math.min(buf.length, off + this.#pacer.piece));
      await this.#pacer.take(piece.length, this.#signal);
      await this.#push(piece);
    }
  }

  async #push(buf: Buffer): Promise<void> {
    this.#check();
    if (this.#out.write(buf)) return;
    while (this.#out.writableNeedDrain) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      this.#check();
    }
  }

  /** The checksum of everything written ('' when not hashed); call once, after finish(). */
  async digest(): Promise<string> {
    return this.#hash ? this.#hash.digest() : '';
  }

  /** Stops the checksum worker after a failure (digest() does it after success). */
  close(): void {
    this.#hash?.close();
  }

  /** Ends the stream and waits until it has flushed (and closed, for file streams). */
  async finish(): Promise<void> {
    this.#check();
    const out = this.#out;
    const done = finished(out);
    out.end();
    try {
      // finished() also waits for 'close' on streams that emit it (file streams: fd closed).
      await done;
    } catch (err) {
      throw outputError(err as Error);
    }
  }
}

function outputError(err: Error): Error {
  if (err instanceof ArchiveError) return err;
  return new ArchiveError('E_ARCHIVE_IO', `writing the archive failed: ${err.message}`, { cause: err });
}
