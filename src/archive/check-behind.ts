/**
 * A local backup's read-back behind its writer (issue 17). The archive is checked member by member
 * while it is being made: as soon as a gzip member's bytes are in the file, a worker thread reads
 * them back from the file and checks them. When the writer is done, only the last members are left
 * to check, so verification adds the tail to the backup's time instead of a whole second pass.
 *
 * What it proves — as much as hashing the output while writing and reading the stored file back
 * afterwards did, with one SHA-256 pass instead of two:
 * - **The stored bytes are the bytes written.** The writer keeps a CRC32 of each member's
 *   compressed bytes as it passes them to the file (here, from its own memory); the read-back
 *   computes the CRC32 of the same byte range as stored and they must match. A storage fault
 *   escapes that only by a CRC32 collision (every error of up to 32 consecutive bits is caught
 *   outright; any other with probability 2^-32) — and inside the deflate data it must also escape
 *   the member's own CRC32 of its inflated contents below, a second independent check. Before,
 *   the same was proven by comparing the SHA-256 of the output with that of the stored file; a
 *   cryptographic hash adds nothing against faults that are not crafted, and whoever can craft
 *   bytes in the node's backup directory while a backup is made could as well write what both
 *   hashes would see.
 * - **The recorded checksum is the stored file's.** It is computed from the bytes read back (in
 *   order, from offset 0, members contiguous, and their total equal to the file's size at the end),
 *   so it is exactly what `backups verify` and the schedule recompute later.
 * - **The archive restores.** Every member inflates, with zlib's CRC32 and length checks, to the
 *   length its header says, and the tar headers are walked to the end-of-archive marker, exactly
 *   as checkArchive does.
 * - **Nothing changed after the check.** At the end the caller reopens the file at its final
 *   path: it must be the same file (device and inode), of the size written and not modified since
 *   its members were read back (size and mtime as seen then); otherwise it is read back whole once
 *   more (see verify.service.ts).
 *
 * Cost, measured on the bench trees (docs/benchmarks.md): CRC32 runs at ~7 GB/s here through
 * libdeflate (check-crc.ts: 25 ms for the 172 MiB small-tree archive, zlib.crc32 131 ms), against
 * 0.74 s for the SHA-256 the writer no longer computes.
 */
import { constants, fstatSync, openSync, closeSync, type Stats, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from './module-worker.ts';
import { MEMBER_HEADER_LEN, probeMember } from './gzip-member.ts';
import type { BehindAnswer, BehindRequest } from './check-behind-worker.ts';
import { memberCrc32 } from './check-crc.ts';
import type { ChecksumType } from './types.ts';

/** One gzip member as written to the file: where, how long, and the CRC32 of its bytes. */
export interface MemberWritten {
  index: number;
  offset: number;
  length: number;
  crc: number;
}

export interface ReadBehindOptions {
  checksumType: ChecksumType;
  /** Test seam: runs once a member is in the file, before it is read back (damage it here). */
  beforeMember?: (tmpPath: string, m: MemberWritten) => void;
}

export type ReadBehindOutcome =
  | { good: true; size: number; checksum: string; checksumType: ChecksumType; members: number; entries: number; stat: Stats }
  | { good: false; reason: string; size: number };

/**
 * The read-back thread a finished backup left, kept for the next one (started lazily by the first
 * local backup, never before): a new thread cost ~85 ms of CPU per backup, 1.5–2 % of a bench
 * tree's backup. One is kept: backups running at once start their own, and each gives its thread
 * back only after a clean end (any other end may leave requests of that backup on their way, so
 * that thread is stopped). The thread drops its buffers between backups, and is stopped after
 * `idleMs` without a backup: idle it is still an isolate of ~10 MiB (RSS), which a quiet daemon
 * (77 MiB, docs/production.md §8) should not carry for a backup hours away, while the backups a
 * schedule starts on a node together all reuse it.
 */
let idle: { worker: Worker; forget: () => void; timer: NodeJS.Timeout } | null = null;
export const readBehindTuning = { idleMs: 60_000 };
/** Read-back threads started in this process, and whether one is kept now (for tests). */
export const readBehindThreads = {
  started: 0,
  get kept(): boolean {
    return idle !== null;
  },
};

function takeWorker(): Worker {
  const kept = idle;
  idle = null;
  if (kept) {
    clearTimeout(kept.timer);
    kept.worker.off('exit', kept.forget);
    kept.worker.off('error', kept.forget);
    return kept.worker;
  }
  readBehindThreads.started++;
  const fresh = startModuleWorker('check-behind-worker', null);
  fresh.unref();
  return fresh;
}

/** Keeps `w` for the next backup, or stops it when one is kept already. */
async function giveBack(w: Worker): Promise<void> {
  if (idle) {
    await w.terminate();
    return;
  }
  // Stopped when its time is up; a thread that fails or stops while idle is forgotten (its error
  // is nobody's to report).
  const forget = () => {
    if (idle?.worker === w) {
      clearTimeout(idle.timer);
      idle = null;
    }
    void w.terminate();
  };
  w.once('exit', forget);
  w.once('error', forget);
  idle = { worker: w, forget, timer: setTimeout(forget, readBehindTuning.idleMs).unref() };
}

/**
 * Use: `wrap` as createArchiveFile's output hook, then `finish(size)` once the file is written;
 * `close()` always. The worker is taken at once (started if none is idle), so a start-up overlaps
 * the tree walk.
 */
export class ReadBehind {
  readonly #opts: ReadBehindOptions;
  readonly #worker: Worker;
  readonly #answer: Promise<BehindAnswer>;
  /** Set once the thread answered 'good' to this backup's end: it may serve the next backup. */
  #clean = false;
  #closed = false;
  readonly #listeners: { message: (a: BehindAnswer) => void; error: (err: Error) => void; exit: (code: number) => void };
  #fd = -1;
  #tmp = '';
  /** Why the members could not be followed (a writer that is not ours); the check then fails. */
  #lost: string | null = null;
  // The member being passed through.
  #pos = 0;
  #start = 0;
  #len = 0;
  #crc = 0;
  #index = 0;
  readonly #head = Buffer.alloc(MEMBER_HEADER_LEN);
  #headFill = 0;

  constructor(opts: ReadBehindOptions) {
    this.#opts = opts;
    this.#worker = takeWorker();
    let settle!: (a: BehindAnswer) => void;
    this.#answer = new Promise<BehindAnswer>((resolve) => (settle = resolve));
    this.#listeners = {
      message: settle,
      error: (err) => settle({ kind: 'error', message: `the read-back thread failed: ${err.message}` }),
      exit: (code) => settle({ kind: 'error', message: `the read-back thread stopped (exit code ${code})` }),
    };
    this.#worker.once('message', this.#listeners.message);
    this.#worker.once('error', this.#listeners.error);
    this.#worker.once('exit', this.#listeners.exit);
    this.#post({ kind: 'begin', checksumType: opts.checksumType });
  }

  /** The stream createArchive writes into: passes every byte on to `file`, noting member boundaries. */
  wrap(file: WriteStream, tmpPath: string): Writable {
    this.#tmp = tmpPath;
    const tap: Writable = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        const done = this.#lost ? [] : this.#follow(chunk);
        // The callback runs once the file stream has written the chunk (fs.write returned): the
        // member is in the file, and a pread from another descriptor sees it.
        file.write(chunk, (err) => {
          if (err) return cb(err);
          try {
            for (const m of done) this.#written(file, m);
          } catch (e) {
            return cb(e as Error);
          }
          cb();
        });
      },
      final: (cb) => {
        file.end();
        finished(file).then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        // Without the error: it is the tap's to report (the file stream's own errors come below).
        if (!file.destroyed) file.destroy();
        cb(err);
      },
    });
    // The file stream's own failure (ENOSPC, EIO) fails the tap, which the writer watches.
    file.on('error', (err) => {
      if (!tap.destroyed) tap.destroy(err);
    });
    return tap;
  }

  /** Splits the written bytes into members by their headers' length field; CRC32 of each. */
  #follow(chunk: Buffer): MemberWritten[] {
    const done: MemberWritten[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.#len === 0) {
        const k = Math.min(chunk.length - off, MEMBER_HEADER_LEN - this.#headFill);
        chunk.copy(this.#head, this.#headFill, off, off + k);
        this.#headFill += k;
        this.#crc = memberCrc32(chunk.subarray(off, off + k), this.#crc);
        off += k;
        this.#pos += k;
        if (this.#headFill < MEMBER_HEADER_LEN) continue;
        const p = probeMember(this.#head, 0);
        if (p.kind !== 'indexed') {
          this.#lost = `the archive's gzip member ${this.#index + 1} carries no length; it cannot be read back behind the writer`;
          return done;
        }
        this.#len = p.memberLength;
        continue;
      }
      const k = Math.min(chunk.length - off, this.#start + this.#len - this.#pos);
      this.#crc = memberCrc32(chunk.subarray(off, off + k), this.#crc);
      off += k;
      this.#pos += k;
      if (this.#pos === this.#start + this.#len) {
        done.push({ index: ++this.#index, offset: this.#start, length: this.#len, crc: this.#crc });
        this.#start = this.#pos;
        this.#len = 0;
        this.#headFill = 0;
        this.#crc = 0;
      }
    }
    return done;
  }

  #written(file: WriteStream, m: MemberWritten): void {
    if (this.#fd < 0) {
      // Opened by name once the file exists, then proven to be the file being written.
      this.#fd = openSync(this.#tmp, constants.O_RDONLY | constants.O_NOFOLLOW);
      const a = fstatSync(this.#fd);
      const b = fstatSync((file as unknown as { fd: number }).fd);
      if (a.dev !== b.dev || a.ino !== b.ino) throw new Error('the archive file was replaced while it was written');
      this.#post({ kind: 'open', fd: this.#fd });
    }
    this.#opts.beforeMember?.(this.#tmp, m);
    this.#post({ kind: 'member', ...m });
  }

  #post(m: BehindRequest): void {
    this.#worker.postMessage(m);
  }

  /**
   * After the writer finished (`size` bytes, file closed): waits for the last members' check.
   * A good outcome carries the stat of the file read back at that moment, for the caller's
   * final look at the stored file.
   */
  async finish(size: number): Promise<ReadBehindOutcome> {
    if (this.#lost) return { good: false, reason: this.#lost, size: 0 };
    if (this.#fd < 0 || this.#pos !== size || this.#len !== 0) return { good: false, reason: `the archive's ${size} bytes did not end with a whole gzip member`, size: 0 };
    this.#post({ kind: 'end', size });
    const a = await this.#answer;
    if (a.kind === 'error') throw new Error(a.message);
    this.#clean = a.kind === 'good';
    if (a.kind === 'damaged') return { good: false, reason: a.reason, size: a.size };
    return { good: true, size: a.size, checksum: a.checksum, checksumType: this.#opts.checksumType, members: a.members, entries: a.entries, stat: fstatSync(this.#fd) };
  }

  /**
   * Gives the thread back for the next backup after a clean end, else stops it; then closes the
   * descriptor it read from (never while it may still read: after a clean end it has read all).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#worker;
    w.off('message', this.#listeners.message);
    w.off('error', this.#listeners.error);
    w.off('exit', this.#listeners.exit);
    if (this.#clean) await giveBack(w);
    else await w.terminate();
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
