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
