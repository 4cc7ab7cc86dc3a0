/** Damages a stored archive the way bit rot does: one byte inverted in place, size unchanged. */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export function flipByteAt(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * What a byte flipped in the middle of an archive of random data is reported as. Most land in a
 * stored block's data and only the member's CRC catches them; a few land in a block header (its
 * LEN/NLEN) and inflate refuses first. Both name the member; which one fires depends on where the
 * random data put the block boundaries (CI met the second once, on PostgreSQL's run of test/panel/verification.test.ts).
 */
export const FLIPPED_BYTE_REASON = /^(CRC mismatch at|corrupt deflate data in) gzip member \d+/;
