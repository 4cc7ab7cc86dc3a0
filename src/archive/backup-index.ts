/**
 * The per-backup index: every entry of an archive with where it starts, so one file or folder can
 * be read without inflating the members before it.
 *
 * File layout: 8-byte header `BWIX` + u8 version (1) + 3 zero bytes, then one gzip member whose
 * body is a sequence of unsigned LEB128 varints (v1):
 *   slice            uncompressed bytes per gzip member (0: a plain gzip, read from the start)
 *   archiveSize      compressed size of the archive the index describes
 *   tarEnd           tar offset where the end-of-archive blocks start
 *   memberCount, then each member's compressed length (offsets are their prefix sums)
 *   entryCount, then per entry, in tar order:
 *     type (0 file, 1 dir, 2 symlink, 3 hardlink, 4 other), mode, size, mtime (zigzag),
 *     tar offset delta from the previous entry (where its first header, PAX/long-name included, starts),
 *     name length + name bytes, and for links: target length + target bytes
 * Per entry that is at most ~30 bytes plus the name before compression. gzip's CRC catches a
 * damaged file; structural checks (offsets in order, within the archive) catch the rest.
 *
 * A tar offset t lives in member floor(t / slice), at t mod slice inside that member's output.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ArchiveError } from './archive-error.ts';
import { TYPE, type HeaderFields } from './tar-header.ts';
import type { EntryType } from './types.ts';

export const INDEX_MAGIC = Buffer.from('BWIX', 'latin1');
export const INDEX_VERSION = 1;
const HEADER_LEN = 8;
/** A decoded index larger than this is not plausible (about 4 M entries with long names). */
const MAX_BODY = 512 << 20;

const TYPES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'other'];

export interface IndexEntry {
  /** Relative path without a trailing slash; U+FFFD for bytes that are not UTF-8. */
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  /** Where the entry's first header starts in the tar stream. */
  tarOffset: number;
}

export interface BackupIndex {
  version: number;
  /** 0 = the archive is one plain gzip stream: reads start at its beginning. */
  slice: number;
  archiveSize: number;
  tarEnd: number;
  /** Compressed offset of each member, plus one last value: the archive size. */
  memberOffsets: number[];
  entries: IndexEntry[];
}

/** The index cannot be used: rebuild it from the archive. */
export class IndexCorruptError extends ArchiveError {
  constructor(message: string) {
    super('E_INDEX_CORRUPT', `the backup index is damaged: ${message}`, { status: 500 });
  }
}

/** The archive does not hold what the index says: the read fails and the index is rebuilt. */
export class IndexMismatchError extends ArchiveError {
  constructor(message: string) {
    super('E_INDEX_MISMATCH', `the backup index does not match the archive (${message}); it will be rebuilt, try again`, { status: 409 });
  }
}

export function entryTypeOf(t: number): EntryType {
  switch (t) {
    case TYPE.file:
    case TYPE.oldFile:
    case TYPE.contiguous:
      return 'file';
    case TYPE.dir:
      return 'dir';
    case TYPE.symlink:
      return 'symlink';
    case TYPE.hardlink:
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Trailing slashes off, `./` prefixes off: the form paths are looked up in. */
export function normalIndexPath(name: string): string {
  let p = name;
  while (p.startsWith('./')) p = p.slice(2);
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

class VarintWriter {
  #buf = Buffer.allocUnsafe(1 << 16);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  uint(v: number): void {
    this.#room(10);
    let x = v;
    while (x >= 0x80) {
      this.#buf[this.#len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.#buf[this.#len++] = x;
  }

  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Buffer): void {
    this.uint(b.length);
    this.#room(b.length);
    b.copy(this.#buf, this.#len);
    this.#len += b.length;
  }

  result(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

class VarintReader {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}

  uint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.#pos >= this.buf.length) throw new IndexCorruptError('it ends early');
      const b = this.buf[this.#pos++]!;
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) {
        if (!Number.isSafeInteger(v)) break;
        return v;
      }
      mul *= 0x80;
    }
    throw new IndexCorruptError('a number is out of range');
  }

  int(): number {
    const u = this.uint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  bytes(): Buffer {
    const n = this.uint();
    if (this.#pos + n > this.buf.length) throw new IndexCorruptError('a name runs past its end');
    const b = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  get done(): boolean {
    return this.#pos === this.buf.length;
  }
}

/** Collects entries and member lengths while an archive is written (see create.ts). */
export class IndexBuilder {
  readonly #w = new VarintWriter();
  readonly #members: number[] = [];
  #entries = 0;
  #lastOffset = 0;

  constructor(readonly slice: number) {}

  /** `tarOffset` is where the entry's first header (PAX/long-name included) starts. */
  entry(h: HeaderFields, tarOffset: number): void {
    const type = entryTypeOf(h.type);
    const w = this.#w;
    w.uint(TYPES.indexOf(type));
    w.uint(h.mode);
    w.uint(type === 'file' ? h.size : 0);
    w.int(h.mtime);
    w.uint(tarOffset - this.#lastOffset);
    this.#lastOffset = tarOffset;
    const name = h.rawName ?? Buffer.from(h.name);
    // Directory names end with '/' in the tar; the index keeps the path alone.
    let end = name.length;
    while (end > 0 && name[end - 1] === 0x2f) end--;
    w.bytes(name.subarray(0, end));
    if (type === 'symlink' || type === 'hardlink') w.bytes(h.rawLinkname ?? Buffer.from(h.linkname ?? ''));
    this.#entries++;
  }

  member(compressedLength: number): void {
    this.#members.push(compressedLength);
  }

  /** The encoded index, once the archive is complete. */
  finish(archiveSize: number, tarEnd: number): Buffer {
    const head = new VarintWriter();
    head.uint(this.slice);
    head.uint(archiveSize);
    head.uint(tarEnd);
    head.uint(this.#members.length);
    for (const m of this.#members) head.uint(m);
    head.uint(this.#entries);
    return frame(Buffer.concat([head.result(), this.#w.result()]));
  }
}

function frame(body: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_LEN);
  INDEX_MAGIC.copy(h, 0);
  h[4] = INDEX_VERSION;
  return Buffer.concat([h, gzipSync(body, { level: 6 })]);
}

/** Encodes an index built some other way (a streaming pass over an archive without one). */
export function encodeIndex(ix: Omit<BackupIndex, 'version'>): Buffer {
  const w = new VarintWriter();
  w.uint(ix.slice);
  w.uint(ix.archiveSize);
  w.uint(ix.tarEnd);
  const offs = ix.memberOffsets;
  w.uint(Math.max(0, offs.length - 1));
  for (let i = 1; i < offs.length; i++) w.uint(offs[i]! - offs[i - 1]!);
  w.uint(ix.entries.length);
  let last = 0;
  for (const e of ix.entries) {
    w.uint(TYPES.indexOf(e.type));
    w.uint(e.mode);
    w.uint(e.size);
    w.int(e.mtime);
    w.uint(e.tarOffset - last);
    last = e.tarOffset;
    w.bytes(Buffer.from(e.path));
    if (e.type === 'symlink' || e.type === 'hardlink') w.bytes(Buffer.from(e.linkname ?? ''));
  }
  return frame(w.result());
}

/** Decodes and checks an index; any damage is an IndexCorruptError (never a partial index). */
export function decodeIndex(file: Buffer): BackupIndex {
  if (file.length < HEADER_LEN || !file.subarray(0, 4).equals(INDEX_MAGIC)) throw new IndexCorruptError('not an index file');
  const version = file[4]!;
  if (version !== INDEX_VERSION) throw new IndexCorruptError(`unknown version ${version}`);
  let body: Buffer;
  try {
    body = gunzipSync(file.subarray(HEADER_LEN), { maxOutputLength: MAX_BODY });
  } catch (err) {
    throw new IndexCorruptError(`its compressed body does not inflate (${(err as Error).message})`);
  }
  const r = new VarintReader(body);
  const slice = r.uint();
  const archiveSize = r.uint();
  const tarEnd = r.uint();
  const memberCount = r.uint();
  if (memberCount > body.length) throw new IndexCorruptError('impossible member count');
  const memberOffsets = [0];
  for (let i = 0; i < memberCount; i++) memberOffsets.push(memberOffsets[i]! + r.uint());
  if (memberCount > 0 && memberOffsets[memberCount] !== archiveSize) throw new IndexCorruptError('member lengths do not add up to the archive size');
  if (slice > 0 && memberCount > 0 && tarEnd > slice * memberCount) throw new IndexCorruptError('the tar stream is longer than its members');
  const count = r.uint();
  if (count > body.length) throw new IndexCorruptError('impossible entry count');
  const entries: IndexEntry[] = new Array(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const type = TYPES[r.uint()];
    if (!type) throw new IndexCorruptError(`entry ${i + 1} has an unknown type`);
    const mode = r.uint();
    const size = r.uint();
    const mtime = r.int();
    offset += r.uint();
    if (offset >= tarEnd) throw new IndexCorruptError(`entry ${i + 1} starts past the end of the tar stream`);
    const path = r.bytes().toString('utf8');
    const e: IndexEntry = { path, type, size, mode, mtime, tarOffset: offset };
    if (type === 'symlink' || type === 'hardlink') e.linkname = r.bytes().toString('utf8');
    entries[i] = e;
  }
  if (!r.done) throw new IndexCorruptError('trailing bytes after the last entry');
  return { version, slice, archiveSize, tarEnd, memberOffsets, entries };
}
