import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzip } from 'node:zlib';
import { abortedError, ArchiveError, throwIfAborted } from './archive-error.ts';
import { ByteQueue } from './byte-queue.ts';
import { probeMember } from './gzip-member.ts';
import { nativeFs } from './native-fs.ts';
import { Pacer } from './output-sink.ts';

/** Members claiming more than this are not trusted for buffering; they go through the stream path. */
const MAX_INDEXED_MEMBER = 16 << 20;

export interface InflateOptions {
  signal?: AbortSignal;
  readLimit?: number;
}

/**
 * Turns a gzip byte stream into its decompressed bytes, in order. While members carry our length
 * subfield, whole members are cut from the input without inflating and inflated several at a time
 * on the threadpool (CRC and length checked by zlib per member). From the first member without it,
 * the rest of the input goes through one streaming gunzip, which handles any standard .gz.
 */
export class Inflater {
  /** Members inflated through the indexed path, plus 1 if the stream path ran. */
  members = 0;
  /** True while every member so far was indexed (and at least one existed). */
  parallelIndexed = true;
  /** Compressed bytes consumed from the input. */
  bytesIn = 0;
  readonly #signal?: AbortSignal;
  readonly #pacer: Pacer | null;
  readonly #maxInflight = 2 * availableParallelism() + 1;

  constructor(opts: InflateOptions = {}) {
    this.#signal = opts.signal;
    this.#pacer = opts.readLimit && opts.readLimit > 0 ? new Pacer(opts.readLimit) : null;
  }

  async *chunks(input: NodeJS.ReadableStream | Readable): AsyncGenerator<Buffer> {
    const it = (input as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    const q = new ByteQueue();
    let eof = false;
    const pull = async (): Promise<boolean> => {
      if (eof) return false;
      throwIfAborted(this.#signal);
      let r: IteratorResult<Buffer | string>;
      try {
        r = await it.next();
      } catch (err) {
        throw new ArchiveError('E_ARCHIVE_IO', `reading the archive failed: ${(err as Error).message}`, { cause: err });
      }
      if (r.done) {
        eof = true;
        return false;
      }
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      this.bytesIn += chunk.length;
      if (this.#pacer) await this.#pacer.take(chunk.length, this.#signal);
      q.push(chunk);
      return true;
    };

    const inflight: Array<Promise<Buffer>> = [];
    // Errors of a member itself: later members must not be handed over after one of these.
    const memberFaults = new WeakSet<object>();
    let index = 0;
    let streamRest = false;
    try {
      members: for (;;) {
        throwIfAborted(this.#signal);
        while (q.length === 0) if (!(await pull())) break members;
        // 12 fixed bytes + at most 65535 of FEXTRA: always enough to classify the header.
        let probe = probeMember(q.peek(Math.min(q.length, 32)), 0);
        if (probe.kind === 'need-more' && q.length > 32) probe = probeMember(q.peek(Math.min(q.length, 12 + 0xffff)), 0);
        if (probe.kind === 'need-more') {
          if (!(await pull())) {
            throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream inside the header of gzip member ${index + 1}`);
          }
          continue;
        }
        if (probe.kind === 'bad-magic') {
          if (index === 0) throw new ArchiveError('E_ARCHIVE_CORRUPT', 'not a gzip stream (bad gzip header)');
          await this.#expectOnlyZeros(q, pull, index);
          break;
        }
        if (probe.kind === 'plain' || probe.memberLength > MAX_INDEXED_MEMBER || probe.rawLength > MAX_INDEXED_MEMBER) {
          streamRest = true;
          break;
        }
        while (q.length < probe.memberLength) {
          if (!(await pull())) {
            throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream inside gzip member ${index + 1} (${q.length} of ${probe.memberLength} bytes)`);
          }
        }
        const member = q.take(probe.memberLength);
        const n = ++index;
        const raw = probe.rawLength;
        const p = new Promise<Buffer>((resolve, reject) => {
          const viaZlib = () => gunzip(member, { maxOutputLength: Math.max(1, raw), chunkSize: Math.max(64, raw + 1) }, (err, out) => {
            let fault: ArchiveError | null = null;
            if (err) fault = memberError(err, n);
            else if (out.length !== raw) fault = new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${n} inflates to ${out.length} bytes, its header says ${raw}`);
            if (fault) {
              memberFaults.add(fault);
              reject(fault);
            } else resolve(out);
          });
          // libdeflate takes the whole member at once (0.68 instead of 1.09 CPU-s for the small
          // bench tree's 269 members, one core). It only answers for a member that is exactly one
          // valid gzip member inflating to exactly `raw` bytes; anything else goes to zlib, whose
          // error names the fault as it always did.
          const nfs = raw > 0 ? nativeFs() : null;
          if (!nfs?.libdeflate) return viaZlib();
          const out = Buffer.allocUnsafe(raw);
          nfs.gunzipMember(member, out).then((r) => (r === 0 ? resolve(out) : viaZlib()), viaZlib);
        });
        p.catch(() => undefined);
        inflight.push(p);
        this.members++;
        while (inflight.length >= this.#maxInflight) yield await inflight.shift()!;
      }
      while (inflight.length > 0) yield await inflight.shift()!;
    } catch (err) {
      // Hand over every complete member before the fault, so a partial restore is as full as it can be.
      if (!(err instanceof ArchiveError) || err.code === 'E_ARCHIVE_ABORTED' || memberFaults.has(err)) throw err;
      while (inflight.length > 0) yield await inflight.shift()!;
      throw err;
    } finally {
      // On an early exit, let queued inflates settle so their errors are not left unhandled.
      if (inflight.length > 0) await Promise.allSettled(inflight);
    }
    if (index === 0 && !streamRest) {
      if (this.bytesIn === 0) throw new ArchiveError('E_ARCHIVE_TRUNCATED', 'the archive is empty');
    }
    if (!streamRest) return;

    this.parallelIndexed = false;
    this.members++;
    const self = this;
    async function* rest(): AsyncGenerator<Buffer> {
      for (const b of q.drain()) yield b;
      while (await pull()) for (const b of q.drain()) yield b;
    }
    const gz = createGunzip({ chunkSize: 256 * 1024 });
    let pipeErr: unknown = null;
    const piping = pipeline(Readable.from(rest()), gz).catch((err: unknown) => {
      pipeErr = err;
    });
    try {
      for await (const out of gz) {
        throwIfAborted(self.#signal);
        yield out as Buffer;
      }
    } catch (err) {
      await piping;
      throw streamError(pipeErr ?? err, index + 1);
    }
    await piping;
    if (pipeErr) throw streamError(pipeErr, index + 1);
  }

  async #expectOnlyZeros(q: ByteQueue, pull: () => Promise<boolean>, index: number): Promise<void> {
    // Tape-style padding after the last member is harmless; anything else is not.
    for (;;) {
      for (const b of q.drain()) {
        for (let i = 0; i < b.length; i++) {
          if (b[i] !== 0) throw new ArchiveError('E_ARCHIVE_CORRUPT', `unexpected data after gzip member ${index} (bad gzip header)`);
        }
      }
      if (!(await pull())) return;
    }
  }
}

/** Why zlib refused gzip member `n` (1-based), as a verification reason. */
export function memberError(err: Error & { code?: string }, n: number): ArchiveError {
  if (err instanceof RangeError || err.code === 'ERR_BUFFER_TOO_LARGE') {
    return new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${n} inflates to more than its header says`, { cause: err });
  }
  if (/data check/i.test(err.message)) return new ArchiveError('E_ARCHIVE_CORRUPT', `CRC mismatch at gzip member ${n}`, { cause: err });
  if (/length check/i.test(err.message)) return new ArchiveError('E_ARCHIVE_CORRUPT', `length mismatch at gzip member ${n}`, { cause: err });
  if (err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) {
    return new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${n} is cut short (its length field is wrong)`, { cause: err });
  }
  return new ArchiveError('E_ARCHIVE_CORRUPT', `corrupt deflate data in gzip member ${n}: ${err.message}`, { cause: err });
}

function streamError(err: unknown, firstMember: number): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const e = err as Error & { code?: string };
  if (e?.name === 'AbortError') return abortedError();
  const where = firstMember > 1 ? ` (in the gzip data from member ${firstMember} on)` : '';
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)) {
    return new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of the gzip stream${where}`, { cause: err });
  }
  if (/data check/i.test(e.message)) return new ArchiveError('E_ARCHIVE_CORRUPT', `CRC mismatch in the gzip stream${where}`, { cause: err });
  if (/header/i.test(e.message)) return new ArchiveError('E_ARCHIVE_CORRUPT', `bad gzip header${where}`, { cause: err });
  return new ArchiveError('E_ARCHIVE_CORRUPT', `corrupt gzip data${where}: ${e.message}`, { cause: err });
}
