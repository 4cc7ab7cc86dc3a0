/**
 * The thread that reads a local backup back behind its writer (issue 17; check-behind.ts explains
 * why this proves what a read-back after the backup proved). It is told each gzip member once the
 * member's bytes are in the file, and in order: reads them back from the file (pread, never from
 * the writer's memory), compares their CRC32 with the writer's, hashes them, inflates the member
 * (libdeflate or zlib checks its CRC32 and length) and walks the tar headers in it. Reading, hashing and the walk
 * run on this thread and inflating on the threadpool, so the main thread, which is still walking
 * the server's tree, gets none of it, and the members left when the writer is done (the only part
 * of the check the backup waits for) are checked on every core.
 *
 * One thread serves one backup after another (a 'begin' starts each): starting it cost ~85 ms of
 * CPU per backup (an isolate and the compiled modules), 1.5 % of the small bench tree's backup.
 */
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { gunzip } from 'node:zlib';
import { ArchiveError } from './archive-error.ts';
import { memberCrc32 } from './check-crc.ts';
import { TarWalk } from './check-tar-walk.ts';
import { probeMember } from './gzip-member.ts';
import { memberError } from './inflate.ts';
import { nativeFs } from './native-fs.ts';
import type { ChecksumType } from './types.ts';

/** main → worker */
export type BehindRequest =
  | { kind: 'begin'; checksumType: ChecksumType }
  | { kind: 'open'; fd: number }
  | { kind: 'member'; index: number; offset: number; length: number; crc: number }
  | { kind: 'end'; size: number };

/** worker → main: one answer per backup, after 'end' or at the first fault. */
export type BehindAnswer =
  | { kind: 'good'; checksum: string; size: number; members: number; entries: number }
  | { kind: 'damaged'; reason: string; size: number }
  | { kind: 'error'; message: string };

const port = parentPort!;
/** Members being inflated at once, on the libuv threadpool: enough to use every core for the tail. */
const MAX_INFLIGHT = 2 * availableParallelism() + 1;
/** Members are 1 MiB tar slices (gzip-member.ts); buffers are at least this, so they fit the next. */
const MIN_BUFFER = 1 << 20;

/** One backup's read-back. */
class Job {
  fd = -1;
  /** Stored bytes read back and hashed so far; always the start of the file. */
  size = 0;
  members = 0;
  readonly hash: Hash;
  readonly walk = new TarWalk();
  /**
   * Read buffers whose members are inflated, and inflate outputs the walk is done with, for reuse:
   * fresh ones cost a page fault per 4 KiB (inflating the small tree into fresh buffers took
   * 0.7 CPU-s, into reused ones 0.53–0.65 s). Dropped with the job, so an idle thread holds none.
   */
  readonly reads: Buffer[] = [];
  readonly outs: Buffer[] = [];
  /** The inflate outputs this job allocated (zlib's are never reused). */
  readonly #ownOuts = new WeakSet<ArrayBufferLike>();

  constructor(checksumType: ChecksumType) {
    this.hash = createHash(checksumType);
  }

  /**
   * Reads member `m` back, hashes it and compares it with what was written, here on this thread, in
   * order; its inflation runs on the threadpool meanwhile (resolves with the member's tar bytes).
   */
  readMember(m: { index: number; offset: number; length: number; crc: number }): Promise<Buffer> {
    if (m.offset !== this.size || m.index !== this.members + 1) throw new Error(`gzip member ${m.index} announced out of order`);
    let whole = this.reads.pop();
    if (!whole || whole.length < m.length) whole = Buffer.allocUnsafeSlow(Math.max(m.length, 2 * MIN_BUFFER));
    const bytes = whole.subarray(0, m.length);
    let got = 0;
    while (got < m.length) {
      const n = readSync(this.fd, bytes, got, m.length - got, m.offset + got);
      if (n === 0) break;
      got += n;
    }
    // Hashed as read, before any check: the digest is of exactly the bytes in the file.
    this.hash.update(got === m.length ? bytes : bytes.subarray(0, got));
    this.size += got;
    this.members++;
    if (got < m.length) throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of the stored archive inside gzip member ${m.index} (${got} of ${m.length} bytes)`);
    const crc = memberCrc32(bytes);
    if (crc !== m.crc) throw new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} as stored differs from what was written (CRC32 ${hex(crc)}, written ${hex(m.crc)})`);
    const probe = probeMember(bytes, 0);
    if (probe.kind !== 'indexed' || probe.memberLength !== m.length) throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad gzip header at member ${m.index}`);
    const raw = probe.rawLength;
    const opts = { maxOutputLength: Math.max(1, raw), chunkSize: Math.max(64, raw + 1) };
    return new Promise<Buffer>((resolve, reject) => {
      const viaZlib = () => gunzip(bytes, opts, (err, out) => {
        this.reads.push(whole);
        if (err) reject(memberError(err, m.index));
        else if (out.length !== raw) reject(new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} inflates to ${out.length} bytes, its header says ${raw}`));
        else resolve(out);
      });
      // libdeflate first, as inflate.ts does for restores: it answers only for exactly one valid
      // member (CRC32 and length checked) inflating to exactly `raw` bytes, the exact size being
      // its fastest path; anything else goes to zlib, whose error names the fault.
      const nfs = raw > 0 ? nativeFs() : null;
      if (!nfs?.libdeflate) return viaZlib();
      let into = this.outs.pop();
      if (!into || into.length < raw) {
        into = Buffer.allocUnsafeSlow(Math.max(raw, MIN_BUFFER));
        this.#ownOuts.add(into.buffer);
      }
      const out = into.subarray(0, raw);
      nfs.gunzipMember(bytes, out).then((r) => {
        if (r !== 0) return viaZlib();
        this.reads.push(whole);
        resolve(out);
      }, viaZlib);
    });
  }

  /** Gives an inflate output back once the walk is done with it (the walk keeps no reference). */
  done(out: Buffer): void {
    if (this.#ownOuts.has(out.buffer)) this.outs.push(Buffer.from(out.buffer, 0, out.buffer.byteLength));
  }
}

const hex = (n: number) => n.toString(16).padStart(8, '0');

const queue: BehindRequest[] = [];
let wake: (() => void) | null = null;
port.on('message', (m: BehindRequest) => {
  queue.push(m);
  wake?.();
});
async function next(): Promise<BehindRequest> {
  while (queue.length === 0) await new Promise<void>((r) => (wake = r));
  wake = null;
  return queue.shift()!;
}

/** Members are read in order and walked in order; a fault is the first one in the stream. */
async function run(job: Job): Promise<BehindAnswer> {
  let walked: Promise<void> = Promise.resolve();
  const inflight: Array<Promise<void>> = [];
  for (;;) {
    const m = await next();
    if (m.kind === 'begin') throw new Error('a read-back began before the last one ended');
    if (m.kind === 'open') {
      job.fd = m.fd;
      continue;
    }
    if (m.kind === 'end') {
      await walked;
      if (job.size !== m.size) return { kind: 'damaged', reason: `only ${job.size} of the ${m.size} bytes written were read back`, size: job.size };
      job.walk.end();
      return { kind: 'good', checksum: job.hash.digest('hex'), size: job.size, members: job.members, entries: job.walk.entries };
    }
    while (inflight.length >= MAX_INFLIGHT) await inflight.shift();
    let tar: Promise<Buffer>;
    try {
      tar = job.readMember(m);
    } catch (err) {
      await walked; // a fault in an earlier member comes first
      throw err;
    }
    tar.catch(() => undefined);
    walked = walked.then(() => tar).then((out) => {
      if (!job.walk.ended) job.walk.push(out);
      job.done(out);
    });
    walked.catch(() => undefined);
    inflight.push(walked);
  }
}

function answerOf(err: unknown, job: Job): BehindAnswer {
  return err instanceof ArchiveError && (err.code === 'E_ARCHIVE_CORRUPT' || err.code === 'E_ARCHIVE_TRUNCATED')
    ? { kind: 'damaged', reason: err.message, size: job.size }
    : { kind: 'error', message: (err as Error).message };
}

/**
 * One backup after another. After an answer other than 'good' the main thread stops this thread
 * (requests of that backup may still be on their way), so only a clean end is ever followed by
 * another 'begin'.
 */
async function serve(): Promise<void> {
  for (;;) {
    const b = await next();
    if (b.kind !== 'begin') throw new Error(`a read-back request (${b.kind}) came before its backup began`);
    const job = new Job(b.checksumType);
    port.postMessage(await run(job).catch((err: unknown) => answerOf(err, job)));
  }
}

serve().catch((err: unknown) => port.postMessage({ kind: 'error', message: (err as Error).message } satisfies BehindAnswer));
