/**
 * Reads a stored archive back and says whether it can be restored (issue 17): the bytes are
 * counted and hashed, every gzip member inflated (CRC and length checked) and the tar stream walked
 * to its end-of-archive marker. Nothing is written. One pass over the input: the hash runs beside
 * the inflation, so checking costs about one read of the archive plus one inflate.
 */
import type { Readable } from 'node:stream';
import { ArchiveError } from './archive-error.ts';
import { Hasher } from './hasher.ts';
import { Inflater } from './inflate.ts';
import { TarWalk } from './check-tar-walk.ts';
import type { ChecksumType } from './types.ts';

/** What the backup recorded when it was made; each known field is compared. */
export interface CheckExpectation {
  size?: number | null;
  checksumType?: ChecksumType | null;
  /** Hex digest (without the `<type>:` prefix). */
  checksum?: string | null;
}

export interface CheckOptions {
  signal?: AbortSignal;
  /** Bytes per second read from the input (0/undefined = unlimited). */
  readLimit?: number;
  /** Awaited before each chunk is read: lets a caller hold the read (e.g. while a backup runs). */
  beforeChunk?: () => Promise<void>;
}

export type CheckOutcome =
  | { good: true; size: number; checksumType: ChecksumType; checksum: string; members: number; entries: number }
  | { good: false; reason: string; size: number };

function isChecksumType(t: unknown): t is ChecksumType {
  return t === 'sha256' || t === 'sha1';
}

/**
 * A damaged or missing archive is a `good: false` outcome with a sentence saying what is wrong;
 * only an abort (or a reader error that is not the archive's fault) rejects.
 */
export async function checkArchive(input: NodeJS.ReadableStream | Readable, expect: CheckExpectation = {}, opts: CheckOptions = {}): Promise<CheckOutcome> {
  const checksumType: ChecksumType = isChecksumType(expect.checksumType) ? expect.checksumType : 'sha256';
  const hasher = new Hasher(checksumType);
  let size = 0;
  // The hash sees exactly the bytes the inflater consumes, in order.
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const raw of input as AsyncIterable<Buffer | string>) {
      if (opts.beforeChunk) await opts.beforeChunk();
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      size += chunk.length;
      await hasher.update(chunk);
      yield chunk;
    }
  }
  const inflater = new Inflater({ signal: opts.signal, readLimit: opts.readLimit });
  const walk = new TarWalk();
  try {
    for await (const chunk of inflater.chunks(counted() as unknown as Readable)) {
      if (!walk.ended) walk.push(chunk);
    }
    walk.end();
  } catch (err) {
    hasher.close();
    if (err instanceof ArchiveError && (err.code === 'E_ARCHIVE_CORRUPT' || err.code === 'E_ARCHIVE_TRUNCATED')) {
      const sizeNote = typeof expect.size === 'number' && size !== expect.size ? ` (${size} of ${expect.size} bytes read)` : '';
      return { good: false, reason: `${err.message}${sizeNote}`, size };
    }
    throw err;
  }
  const checksum = await hasher.digest();
  if (typeof expect.size === 'number' && expect.size > 0 && size !== expect.size) {
    return { good: false, reason: `the stored archive is ${size} bytes, the backup recorded ${expect.size}`, size };
  }
  if (expect.checksum && checksum !== expect.checksum.toLowerCase()) {
    return { good: false, reason: `checksum mismatch: the stored archive hashes to ${checksumType}:${checksum.slice(0, 16)}…, the backup recorded ${checksumType}:${expect.checksum.slice(0, 16)}…`, size };
  }
  return { good: true, size, checksumType, checksum, members: inflater.members, entries: walk.entries };
}
