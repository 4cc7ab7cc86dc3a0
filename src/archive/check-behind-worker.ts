/**
 * The thread that reads a local backup back behind its writer (issue 17; check-behind.ts explains
 * why this proves what a read-back after the backup proved). It is told each gzip member once the
 * member's bytes are in the file, and in order: reads them back from the file (pread, never from
 * the writer's memory), compares their CRC32 with the writer's, hashes them, inflates the member
 * (zlib checks its CRC32 and length) and walks the tar headers in it. Everything on this one
 * thread, so the main thread, which is still walking the server's tree, gets none of it.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32, gunzipSync } from 'node:zlib';
import { ArchiveError } from './archive-error.ts';
import { TarWalk } from './check-tar-walk.ts';
import { probeMember } from './gzip-member.ts';
import { memberError } from './inflate.ts';

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
let fd = -1;
let buf = Buffer.allocUnsafe(2 << 20);
/** Stored bytes read back and hashed so far; always the start of the file. */
let size = 0;
let members = 0;
let answered = false;

function member(m: { index: number; offset: number; length: number; crc: number }): void {
  if (m.offset !== size || m.index !== members + 1) throw new Error(`gzip member ${m.index} announced out of order`);
  if (buf.length < m.length) buf = Buffer.allocUnsafe(m.length);
  let got = 0;
  while (got < m.length) {
    const n = readSync(fd, buf, got, m.length - got, m.offset + got);
    if (n === 0) break;
    got += n;
  }
  const bytes = buf.subarray(0, got);
  // Hashed as read, before any check: the digest is of exactly the bytes in the file.
  hash.update(bytes);
  size += got;
  members++;
  if (got < m.length) throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of the stored archive inside gzip member ${m.index} (${got} of ${m.length} bytes)`);
  const crc = crc32(bytes);
  if (crc !== m.crc) throw new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} as stored differs from what was written (CRC32 ${hex(crc)}, written ${hex(m.crc)})`);
  const probe = probeMember(bytes, 0);
  if (probe.kind !== 'indexed' || probe.memberLength !== m.length) throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad gzip header at member ${m.index}`);
  const raw = probe.rawLength;
  let out: Buffer;
  try {
    out = gunzipSync(bytes, { maxOutputLength: Math.max(1, raw), chunkSize: Math.max(64, raw + 1) });
  } catch (err) {
    throw memberError(err as Error, m.index);
  }
  if (out.length !== raw) throw new ArchiveError('E_ARCHIVE_CORRUPT', `gzip member ${m.index} inflates to ${out.length} bytes, its header says ${raw}`);
  if (!walk.ended) walk.push(out);
}

function end(total: number): BehindAnswer {
  if (size !== total) return { kind: 'damaged', reason: `only ${size} of the ${total} bytes written were read back`, size };
  walk.end();
  return { kind: 'good', checksum: hash.digest('hex'), size, members, entries: walk.entries };
}

const hex = (n: number) => n.toString(16).padStart(8, '0');

function answer(a: BehindAnswer): void {
  answered = true;
  port.postMessage(a);
}

port.on('message', (m: BehindRequest) => {
  if (answered) return;
  try {
    if (m.kind === 'open') fd = m.fd;
    else if (m.kind === 'member') member(m);
    else answer(end(m.size));
  } catch (err) {
    if (err instanceof ArchiveError && (err.code === 'E_ARCHIVE_CORRUPT' || err.code === 'E_ARCHIVE_TRUNCATED')) answer({ kind: 'damaged', reason: err.message, size });
    else answer({ kind: 'error', message: (err as Error).message });
  }
});
