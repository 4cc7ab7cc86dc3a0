/**
 * The thread that reads a local backup back behind its writer (issue 17; check-behind.ts explains
 * why this proves what a read-back after the backup proved). It is told each gzip member once the
 * member's bytes are in the file, and in order: reads them back from the file (pread, never from
 * the writer's memory), compares their CRC32 with the writer's, hashes them, inflates the member
 * (libdeflate or zlib checks its CRC32 and length) and walks the tar headers in it. Reading, hashing and the walk
 * run on this thread and inflating on the threadpool, so the main thread, which is still walking
 * the server's tree, gets none of it, and the members left when the writer is done (the only part
 * of the check the backup waits for) are checked on every core.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32, gunzip } from 'node:zlib';
import { ArchiveError } from './archive-error.ts';
import { TarWalk } from './check-tar-walk.ts';
import { probeMember } from './gzip-member.ts';
import { memberError } from './inflate.ts';
import { nativeFs } from './native-fs.ts';

/** main → worker */
export type BehindRequest =
  | { kind: 'open'; fd: number }
  | { kind: 'member'; index: number; offset: number; length: number; crc: number }
  | { kind: 'end'; size: number };

/** worker → main: one answer, after 'end' or at the first fault. */
export type BehindAnswer =
  | { kind: 'good'; checksum: string; size: number; members: number; entries: number }
  | { kind: 'damaged'; reason: string; size: number }
  | { kind: 'error'; message: string };

const port = parentPort!;
const hash = createHash((workerData as { checksumType: string }).checksumType);
const walk = new TarWalk();
/** Members being inflated at once, on the libuv threadpool: enough to use every core for the tail. */
const MAX_INFLIGHT = 2 * availableParallelism() + 1;
let fd = -1;
/** Stored bytes read back and hashed so far; always the start of the file. */
let size = 0;
let members = 0;
/** Read buffers whose members are inflated, for reuse. */
const pool: Buffer[] = [];

/**
 * Reads member `m` back, hashes it and compares it with what was written, here on this thread, in
 * order; its inflation runs on the threadpool meanwhile (resolves with the member's tar bytes).
 */
function readMember(m: { index: number; offset: number; length: number; crc: number }): Promise<Buffer> {
  if (m.offset !== size || m.index !== members + 1) throw new Error(`gzip member ${m.index} announced out of order`);
  // Buffers are reused once their member is inflated (fresh 1 MiB buffers cost page faults).
  let whole = pool.pop();
  if (!whole || whole.length < m.length) whole = Buffer.allocUnsafeSlow(Math.max(m.length, 2 << 20));
  const bytes = whole.subarray(0, m.length);
  let got = 0;
  while (got < m.length) {
    const n = readSync(fd, bytes, got, m.length - got, m.offset + got);
    if (n === 0) break;
    got += n;
  }
  // Hashed as read, before any check: the digest is of exactly the bytes in the file.
  hash.update(got === m.length ? bytes : bytes.subarray(0, got));
  size += got;
  members++;
  if (got < m.length) throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of the stored archive inside gzip member ${m.index} (${got} of ${m.length} bytes)`);
  const crc = crc32(bytes);
  if (crc !== m.crc) throw new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} as stored differs from what was written (CRC32 ${hex(crc)}, written ${hex(m.crc)})`);
  const probe = probeMember(bytes, 0);
  if (probe.kind !== 'indexed' || probe.memberLength !== m.length) throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad gzip header at member ${m.index}`);
  const raw = probe.rawLength;
  const opts = { maxOutputLength: Math.max(1, raw), chunkSize: Math.max(64, raw + 1) };
  return new Promise<Buffer>((resolve, reject) => {
    const viaZlib = () => gunzip(bytes, opts, (err, out) => {
      pool.push(whole);
      if (err) reject(memberError(err, m.index));
      else if (out.length !== raw) reject(new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} inflates to ${out.length} bytes, its header says ${raw}`));
      else resolve(out);
    });
    // libdeflate first, as inflate.ts does for restores: it answers only for exactly one valid
    // member (CRC32 and length checked) inflating to exactly `raw` bytes; anything else goes to
    // zlib, whose error names the fault. The small bench tree's verification CPU: see docs/benchmarks.md.
    const nfs = raw > 0 ? nativeFs() : null;
    if (!nfs?.libdeflate) return viaZlib();
    const out = Buffer.allocUnsafe(raw);
    nfs.gunzipMember(bytes, out).then((r) => {
      if (r !== 0) return viaZlib();
      pool.push(whole);
      resolve(out);
    }, viaZlib);
  });
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
async function run(): Promise<BehindAnswer> {
  let walked: Promise<void> = Promise.resolve();
  const inflight: Array<Promise<void>> = [];
  for (;;) {
    const m = await next();
    if (m.kind === 'open') {
      fd = m.fd;
      continue;
    }
    if (m.kind === 'end') {
      await walked;
      if (size !== m.size) return { kind: 'damaged', reason: `only ${size} of the ${m.size} bytes written were read back`, size };
      walk.end();
      return { kind: 'good', checksum: hash.digest('hex'), size, members, entries: walk.entries };
    }
    while (inflight.length >= MAX_INFLIGHT) await inflight.shift();
    let tar: Promise<Buffer>;
    try {
      tar = readMember(m);
    } catch (err) {
      await walked; // a fault in an earlier member comes first
      throw err;
    }
    tar.catch(() => undefined);
    walked = walked.then(() => tar).then((out) => {
      if (!walk.ended) walk.push(out);
    });
    walked.catch(() => undefined);
    inflight.push(walked);
  }
}

run().then(
  (a) => port.postMessage(a),
  (err: unknown) => {
    const a: BehindAnswer =
      err instanceof ArchiveError && (err.code === 'E_ARCHIVE_CORRUPT' || err.code === 'E_ARCHIVE_TRUNCATED')
        ? { kind: 'damaged', reason: err.message, size }
        : { kind: 'error', message: (err as Error).message };
    port.postMessage(a);
  },
);
