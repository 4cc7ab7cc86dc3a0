import { gzipSync } from 'node:zlib';
import { BLOCK, encodeHeader, TYPE } from '../../src/archive/tar-header.ts';

export interface RawEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  mtime?: number;
}

const typeByte = { file: TYPE.file, dir: TYPE.dir, symlink: TYPE.symlink, hardlink: TYPE.hardlink, char: TYPE.char, block: TYPE.block, fifo: TYPE.fifo };

/** Builds a raw tar stream by hand, so tests can express archives no sane tool would write. */
export function buildTar(entries: RawEntry[], opts: { endMarker?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const scratch = Buffer.alloc(BLOCK * 16);
    const len = encodeHeader(
      { name: e.name, type: typeByte[e.type ?? 'file'], mode: e.mode ?? 0o644, uid: 0, gid: 0, size: data.length, mtime: e.mtime ?? 1_600_000_000, linkname: e.linkname },
      scratch,
    );
    parts.push(scratch.subarray(0, len), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  if (opts.endMarker !== false) parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export function buildTarGz(entries: RawEntry[]): Buffer {
  return gzipSync(buildTar(entries));
}
