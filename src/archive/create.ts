import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { AppError } from '../core/app-error.ts';
import { quietLog, type ArchiveLog } from './archive-log.ts';
import { ArchiveError, throwIfAborted } from './archive-error.ts';
import { IndexBuilder } from './backup-index.ts';
import { IgnoreMatcher, IGNORE_MAX_BYTES } from './ignore-rules.ts';
import { nativeFs, READ_FIELDS, reportNativeFs } from './native-fs.ts';
import { OutputSink } from './output-sink.ts';
import { ParallelGzip, SLICE } from './parallel-gzip.ts';
import { ProgressThrottle } from './progress.ts';
import { compareBytewise } from './sort-names.ts';
import { BLOCK, encodeHeader, headerSpace, TYPE, type HeaderFields } from './tar-header.ts';
import type { ChangedFiles, CompressionLevel, CreateOptions, CreateResult } from './types.ts';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const OPEN_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
const ZEROS = Buffer.alloc(BLOCK * 2);
/** Regular files per native readFiles run, the buffer they are read into, and the largest file it takes (bigger ones are read straight into the slab). */
const READ_RUN = 64;
const READ_BUFFER = 1 << 20;
const READ_MAX_FILE = 128 << 10;

export function resolveLevel(level: CompressionLevel | undefined): number {
  if (level === undefined || level === 'best_speed') return 1;
  if (level === 'best_compression') return 9;
  if (level === 'none') return 0;
  if (typeof level === 'number' && Number.isInteger(level) && level >= 0 && level <= 9) return level;
  throw new AppError('E_ARCHIVE_LEVEL', 400, `invalid compression level ${JSON.stringify(level)}: use best_speed, best_compression, none or 0-9`);
}

/** Reads <root>/.pteroignore without following a link and without ever blocking on a FIFO. */
export function readPteroignore(root: string, logger: ArchiveLog): string {
  let fd: number;
  try {
    fd = fs.openSync(`${root}/.pteroignore`, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    if (code === 'ELOOP') {
      logger.warn('.pteroignore is a symbolic link; not used');
      return '';
    }
    throw new ArchiveError('E_ARCHIVE_IO', `cannot read .pteroignore: ${(err as Error).message}`, { cause: err });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      logger.warn('.pteroignore is not a regular file; not used');
      return '';
    }
    if (st.size > IGNORE_MAX_BYTES) {
      throw new AppError('E_IGNORE_TOO_LARGE', 400, 'the .pteroignore file may not be larger than 32 KiB', { meta: { source: '.pteroignore' } });
    }
    const buf = Buffer.alloc(IGNORE_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    if (n > IGNORE_MAX_BYTES) {
      throw new AppError('E_IGNORE_TOO_LARGE', 400, 'the .pteroignore file may not be larger than 32 KiB', { meta: { source: '.pteroignore' } });
    }
    return buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A path is a string while every component is valid UTF-8, and raw bytes from the first component
 * that is not (fs accepts Buffer paths), so such names are archived as they are, never skipped.
 */
type PathName = string | Buffer;

/** What readdir's d_type said; UNKNOWN (some file systems) means lstat decides. */
const KIND = { unknown: 0, file: 1, dir: 2, symlink: 3, special: 4 } as const;
type Kind = (typeof KIND)[keyof typeof KIND];

function kindOf(d: fs.Dirent | fs.Dirent<Buffer>): Kind {
  if (d.isFile()) return KIND.file;
  if (d.isDirectory()) return KIND.dir;
  if (d.isSymbolicLink()) return KIND.symlink;
  if (d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) return KIND.special;
  return KIND.unknown;
}

interface Frame {
  rel: PathName; // '' for the root
  abs: PathName;
  names: PathName[];
  kinds: Kind[];
  i: number;
}

const SLASH = Buffer.from('/');

function joinPath(parent: PathName, name: PathName): PathName {
  if (typeof parent === 'string' && typeof name === 'string') return parent === '' ? name : `${parent}/${name}`;
  const p = typeof parent === 'string' ? Buffer.from(parent) : parent;
  const n = typeof name === 'string' ? Buffer.from(name) : name;
  return p.length === 0 ? n : Buffer.concat([p, SLASH, n]);
}

/** Text for messages and ignore matching: invalid bytes become U+FFFD. */
function display(p: PathName): string {
  return typeof p === 'string' ? p : p.toString('utf8');
}

/** How often, at most, a long run without a natural await gives the event loop a turn. */
const YIELD_EVERY_MS = 20;

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Seam for tests that change a file at an exact moment: after its bytes were read, before the re-check. */
export const createTestHooks: { afterRead?: (rel: string, pass: 1 | 2) => void } = {};

/**
 * A changed file is re-read once at the end when it is at most this large. The re-read happens
 * while the game keeps running, so it only helps when it is quick compared with how often the file
 * is rewritten: 64 MiB is well under a second from the page cache or an SSD, covers every config,
 * player, region and small database file a game server has, and bounds the bytes stored twice;
 * bigger files that change mid-read (logs being appended, large databases) would most likely change
 * again anyway. All re-reads together are capped too, so a busy tree cannot double the archive.
 */
export const REREAD_MAX_FILE = 64 << 20;
export const REREAD_MAX_TOTAL = 256 << 20;
const CHANGED_NAMES_KEPT = 20;

class ChangedFileLog {
  count = 0;
  inconsistent = 0;
  readonly #names: string[] = [];
  #rereads: Array<{ abs: PathName; relText: string; rawName: Buffer | undefined }> = [];
  #rereadBytes = 0;

  note(relText: string, abs: PathName, rawName: Buffer | undefined, size: number): void {
    this.count++;
    if (this.#names.length < CHANGED_NAMES_KEPT) this.#names.push(relText);
    if (size <= REREAD_MAX_FILE && this.#rereadBytes + size <= REREAD_MAX_TOTAL) {
      this.#rereadBytes += size;
      this.#rereads.push({ abs, relText, rawName });
    } else {
      this.inconsistent++;
    }
  }

  takeRereads(): Array<{ abs: PathName; relText: string; rawName: Buffer | undefined }> {
    const r = this.#rereads;
    this.#rereads = [];
    return r;
  }

  result(): ChangedFiles {
    return { count: this.count, names: [...this.#names], inconsistent: this.inconsistent };
  }
}

/**
 * The tar producer: a streaming depth-first walk in bytewise name order that writes headers and
 * file contents straight into slab buffers handed to the parallel compressor. Memory is bounded by
 * the open directories' name lists plus the compressor's slabs, never by the tree.
 */
export class TarProducer {
  readonly #gz: ParallelGzip;
  #slab: Buffer;
  #pos = 0;
  #scratch = Buffer.allocUnsafe(BLOCK * 8);
  readonly #checkpoint: () => void;
  #lastYield = performance.now();
  /** Full slices handed to the compressor so far. */
  #slices = 0;
  readonly #index: IndexBuilder | null;
  /** File bytes read so far, including the file being copied right now. */
  bytesRead = 0;
  /** Where the end-of-archive blocks start, once end() ran. */
  tarEnd = 0;

  /**
   * `checkpoint` runs at every 1 MiB slice, inside big files too: it may throw (cancellation) and
   * reports progress, so neither waits for a file to end.
   */
  constructor(gz: ParallelGzip, checkpoint: () => void = () => undefined, index: IndexBuilder | null = null) {
    this.#gz = gz;
    this.#slab = gz.takeSlab();
    this.#checkpoint = checkpoint;
    this.#index = index;
  }

  /** Bytes of tar stream produced so far. */
  get tarOffset(): number {
    return this.#slices * SLICE + this.#pos;
  }

  async #rotate(): Promise<void> {
    const full = this.#slab;
    const len = this.#pos;
    this.#slab = this.#gz.takeSlab();
    this.#pos = 0;
    this.#slices++;
    await this.#gz.submit(full, len);
    await this.maybeYield();
    this.#checkpoint();
  }

  /**
   * submit() only waits when the compressors are behind; when they keep up, a big file would be
   * read without the event loop ever running (no abort from a request, no timers).
   */
  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#lastYield < YIELD_EVERY_MS) return;
    await yieldToLoop();
    this.#lastYield = performance.now();
  }

  async writeBytes(src: Buffer, len = src.length): Promise<void> {
    let off = 0;
    while (off < len) {
      if (this.#pos === SLICE) await this.#rotate();
      const n = Math.min(len - off, SLICE - this.#pos);
      src.copy(this.#slab, this.#pos, off, off + n);
      this.#pos += n;
      off += n;
    }
  }

  async header(h: HeaderFields): Promise<void> {
    this.#index?.entry(h, this.tarOffset);
    const need = headerSpace(h.rawName ?? h.name, h.rawLinkname ?? h.linkname);
    if (this.#pos < SLICE && SLICE - this.#pos >= need) {
      // Straight into the slab: no scratch copy for the common case.
      this.#pos += encodeHeader(h, this.#slab, this.#pos);
      return;
    }
    if (this.#scratch.length < need) this.#scratch = Buffer.allocUnsafe(need);
    const len = encodeHeader(h, this.#scratch);
    await this.writeBytes(this.#scratch, len);
  }

  /**
   * Copies exactly `size` bytes of `fd` into the stream (zero-padded if the file shrank, cut at
   * `size` if it grew) plus block padding. Returns the bytes actually read from the file.
   */
  async content(fd: number, size: number): Promise<number> {
    let remaining = size;
    let filePos = 0;
    let eof = false;
    while (remaining > 0) {
      if (this.#pos === SLICE) await this.#rotate();
      const n = Math.min(remaining, SLICE - this.#pos);
      let got = 0;
      if (!eof) {
        got = fs.readSync(fd, this.#slab, this.#pos, n, filePos);
        if (got === 0) eof = true;
      }
      if (eof) {
        this.#slab.fill(0, this.#pos, this.#pos + n);
        this.#pos += n;
        remaining -= n;
        continue;
      }
      this.#pos += got;
      filePos += got;
      remaining -= got;
      this.bytesRead += got;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await this.writeBytes(ZEROS, pad);
    return filePos;
  }

  /**
   * content() for a file the native addon already read: `got` bytes of `src` from `off`, zeros up
   * to `size` if it shrank (as content() pads), then block padding.
   */
  async contentFrom(src: Buffer, off: number, got: number, size: number): Promise<void> {
    if (this.#pos < SLICE && SLICE - this.#pos >= got) {
      src.copy(this.#slab, this.#pos, off, off + got);
      this.#pos += got;
    } else await this.writeBytes(src.subarray(off, off + got));
    this.bytesRead += got;
    for (let rest = size - got; rest > 0; ) {
      const n = Math.min(rest, ZEROS.length);
      await this.writeBytes(ZEROS, n);
      rest -= n;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await this.writeBytes(ZEROS, pad);
  }

  async end(): Promise<void> {
    this.tarEnd = this.tarOffset;
    await this.writeBytes(ZEROS, BLOCK * 2);
    if (this.#pos > 0) {
      const len = this.#pos;
      this.#pos = 0;
      await this.#gz.submit(this.#slab, len);
    }
    await this.#gz.flush();
  }
}

export async function createArchive(root: string, out: NodeJS.WritableStream | Writable, opts: CreateOptions = {}): Promise<CreateResult> {
  const output = out as Writable;
  try {
    const level = resolveLevel(opts.level);
    const checksumType = opts.checksum ?? 'sha256';
    if (checksumType !== 'sha256' && checksumType !== 'sha1') {
      throw new AppError('E_ARCHIVE_CHECKSUM', 400, `unsupported checksum type ${JSON.stringify(checksumType)}`);
    }
    const sink = new OutputSink(output, { checksum: opts.hashOutput === false ? null : checksumType, writeLimit: opts.writeLimit, signal: opts.signal });
    // Deep enough that a main thread delayed by a busy scheduler does not leave the compressors idle.
    const index = opts.index ? new IndexBuilder(SLICE) : null;
    const gz = new ParallelGzip(sink, level, 2 * availableParallelism() + 2, index ? (n) => index.member(n) : undefined);
    let stats: { files: number; bytesRead: number; changedFiles: ChangedFiles; tarEnd: number };
    try {
      stats = await walk(resolvePath(root), gz, sink, opts, index);
    } catch (err) {
      // Destroy first: a writer waiting for 'drain' from a consumer that stopped is woken by it.
      destroyOutput(output, err);
      await gz.abandon();
      sink.close();
      throw err;
    }
    try {
      await sink.finish();
    } catch (err) {
      sink.close();
      throw err;
    }
    const result: CreateResult = { size: sink.size, checksum: await sink.digest(), checksumType, files: stats.files, bytesRead: stats.bytesRead, changedFiles: stats.changedFiles };
    if (index) result.index = index.finish(sink.size, stats.tarEnd);
    return result;
  } catch (err) {
    destroyOutput(output, err);
    throw err;
  }
}

function destroyOutput(output: Writable, err: unknown): void {
  if (output.destroyed) return;
  // destroy(err) emits 'error'; make sure that alone can never crash the process.
  output.once('error', () => undefined);
  output.destroy(err instanceof Error ? err : new Error(String(err)));
}

async function walk(root: string, gz: ParallelGzip, sink: OutputSink, opts: CreateOptions, index: IndexBuilder | null): Promise<{ files: number; bytesRead: number; changedFiles: ChangedFiles; tarEnd: number }> {
  const logger = opts.logger ?? quietLog;
  const signal = opts.signal;
  throwIfAborted(signal);
  let rootStat: fs.Stats;
  try {
    rootStat = fs.statSync(root);
  } catch (err) {
    throw new ArchiveError('E_ARCHIVE_ROOT', `cannot read the directory to archive: ${(err as Error).message}`, { cause: err });
  }
  if (!rootStat.isDirectory()) throw new ArchiveError('E_ARCHIVE_ROOT', `${root} is not a directory`);

  const matcher = IgnoreMatcher.from({ text: readPteroignore(root, logger), source: '.pteroignore' }, { text: opts.ignore ?? '', source: 'ignore' });
  const progress = new ProgressThrottle(opts.onProgress);
  let files = 0;
  let skippedSpecial = 0;
  let skippedGone = 0;
  let rawNames = 0;
  let sinceYield = 0;
  const snapshot = () => ({ bytesRead: tar.bytesRead, filesDone: files, bytesWritten: sink.size, totalBytes: null });
  const tar: TarProducer = new TarProducer(
    gz,
    () => {
      throwIfAborted(signal);
      progress.tick(snapshot);
    },
    index,
  );

  /**
   * The directory's names in bytewise order with their d_type, so regular files (most of a tree)
   * need no lstat: they are opened O_NOFOLLOW and judged by fstat of the descriptor anyway.
   */
  const readNames = (abs: PathName): { names: PathName[]; kinds: Kind[] } | null => {
    try {
      if (typeof abs === 'string') {
        const ents = fs.readdirSync(abs, { withFileTypes: true });
        // U+FFFD is what a name that is not valid UTF-8 decodes to; re-read those as bytes.
        if (!ents.some((d) => d.name.includes('\uFFFD'))) {
          ents.sort((a, b) => compareBytewise(a.name, b.name));
          return { names: ents.map((d) => d.name), kinds: ents.map(kindOf) };
        }
      }
      const raw = fs.readdirSync(abs, { withFileTypes: true, encoding: 'buffer' }).sort((a, b) => Buffer.compare(a.name, b.name));
      const names = raw.map((d) => {
        if (isUtf8(d.name)) return d.name.toString('utf8');
        rawNames++;
        return d.name;
      });
      return { names, kinds: raw.map(kindOf) };
    } catch (err) {
      if (isGone(err)) return null;
      throw new ArchiveError('E_ARCHIVE_IO', `cannot read directory ${display(abs)}: ${(err as Error).message}`, { cause: err });
    }
  };

  /**
   * Archives one regular file: header from the fstat of the opened fd, exactly that many bytes, then
   * a second fstat. A size or mtime that moved (or a short read) means the copy may mix old and new
   * bytes; the entry itself stays well-formed either way (cut at, or zero-padded to, its size).
   */
  const archiveFile = async (abs: PathName, relText: string, rawName: Buffer | undefined, pass: 1 | 2): Promise<'gone' | { changed: boolean; size: number }> => {
    let fd: number;
    try {
      fd = fs.openSync(abs, OPEN_FLAGS);
    } catch (err) {
      if (isGone(err) || (err as NodeJS.ErrnoException).code === 'ELOOP') return 'gone';
      throw new ArchiveError('E_ARCHIVE_IO', `cannot open ${relText}: ${(err as Error).message}`, { cause: err });
    }
    try {
      // The name may have been replaced since readdir/lstat: trust only what fd points at.
      const fst = fs.fstatSync(fd);
      if (!fst.isFile()) return 'gone';
      await tar.header({ name: relText, ...(rawName ? { rawName } : {}), type: TYPE.file, mode: fst.mode & 0o7777, uid: fst.uid, gid: fst.gid, size: fst.size, mtime: Math.floor(fst.mtimeMs / 1000) });
      const got = await tar.content(fd, fst.size);
      createTestHooks.afterRead?.(relText, pass);
      const after = fs.fstatSync(fd);
      const changed = got < fst.size || after.size !== fst.size || after.mtimeMs !== fst.mtimeMs;
      if (got < fst.size) logger.warn({ file: relText, expected: fst.size, read: got }, 'file shrank during backup; padded with zeros');
      return { changed, size: after.size };
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new ArchiveError('E_ARCHIVE_IO', `cannot read ${relText}: ${(err as Error).message}`, { cause: err });
    } finally {
      fs.closeSync(fd);
    }
  };
  const changes = new ChangedFileLog();
  const regular = async (abs: PathName, relText: string, rawName: Buffer | undefined): Promise<void> => {
    if (matcher.matches(relText, false)) return;
    const r = await archiveFile(abs, relText, rawName, 1);
    if (r === 'gone') {
      skippedGone++;
      return;
    }
    files++;
    if (r.changed) changes.note(relText, abs, rawName, r.size);
  };

  /**
   * A run of regular files of one directory, read by the native addon (one call per run instead of
   * open/fstat/read/fstat/close through fs.*Sync per file). Equivalent to regular() for each: the
   * same ignore rule, the addon opens each name O_RDONLY|O_NOFOLLOW|O_NONBLOCK relative to the
   * directory (opened O_DIRECTORY|O_NOFOLLOW), the header comes from the first fstat, exactly that
   * many bytes are taken (zero-padded if it shrank), and a second fstat flags a change as
   * archiveFile does. Any file it does not handle plainly (gone, not a regular file any more, a
   * read error, too big for the buffer) goes through regular(), which decides as it always did;
   * a directory it cannot open sends the whole run there.
   */
  const regularRun = async (frame: Frame, start: number, end: number): Promise<void> => {
    const names: PathName[] = [];
    const rels: Array<{ abs: PathName; relText: string; rawName: Buffer | undefined }> = [];
    for (let j = start; j < end; j++) {
      const name = frame.names[j]!;
      const rel = joinPath(frame.rel, name);
      const relText = display(rel);
      if (matcher.matches(relText, false)) continue;
      names.push(name);
      rels.push({ abs: joinPath(frame.abs, name), relText, rawName: typeof rel === 'string' ? undefined : rel });
    }
    let i = 0;
    while (i < names.length) {
      const done = nfs!.readFiles(frame.abs, names, i, names.length, readBuf, READ_MAX_FILE, readOut);
      if (done <= 0) {
        // The directory did not open as a directory (replaced meanwhile) or nothing fitted: the usual way.
        const stop = done < 0 ? names.length : i + 1;
        for (; i < stop; i++) await regular(rels[i]!.abs, rels[i]!.relText, rels[i]!.rawName);
        continue;
      }
      for (let k = 0; k < done; k++, i++) {
        const r = rels[i]!;
        const o = k * READ_FIELDS;
        if (readOut[o] !== 0) {
          await regular(r.abs, r.relText, r.rawName);
          continue;
        }
        const size = readOut[o + 2]!;
        const got = readOut[o + 3]!;
        await tar.header({ name: r.relText, ...(r.rawName ? { rawName: r.rawName } : {}), type: TYPE.file, mode: readOut[o + 4]!, uid: readOut[o + 5]!, gid: readOut[o + 6]!, size, mtime: readOut[o + 7]! });
        await tar.contentFrom(readBuf, readOut[o + 1]!, got, size);
        if (got < size) logger.warn({ file: r.relText, expected: size, read: got }, 'file shrank during backup; padded with zeros');
        files++;
        const after = readOut[o + 8]!;
        if (after < 0) changes.note(r.relText, r.abs, r.rawName, -after - 1);
      }
    }
  };
  const nfs = createTestHooks.afterRead ? null : nativeFs();
  if (!createTestHooks.afterRead) reportNativeFs(logger);
  const readBuf = nfs ? Buffer.allocUnsafe(READ_BUFFER) : Buffer.alloc(0);
  const readOut = new Float64Array(nfs ? READ_RUN * READ_FIELDS : 0);

  const stack: Frame[] = [{ rel: '', abs: root, ...(readNames(root) ?? { names: [], kinds: [] }), i: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.i >= frame.names.length) {
      stack.pop();
      continue;
    }
    const kind = frame.kinds[frame.i]!;
    const name = frame.names[frame.i++]!;
    const rel = joinPath(frame.rel, name);
    const abs = joinPath(frame.abs, name);
    // Raw names are kept as bytes in the archive; ignore rules see them with U+FFFD.
    const relText = display(rel);
    const rawName = typeof rel === 'string' ? undefined : rel;
    if (++sinceYield >= 256) {
      // Keep the event loop (HTTP server, timers) responsive during long runs of small files.
      sinceYield = 0;
      await tar.maybeYield();
      throwIfAborted(signal);
      progress.tick(snapshot);
    }

    if (kind === KIND.file && nfs) {
      const start = frame.i - 1;
      let end = frame.i;
      while (end < frame.names.length && frame.kinds[end] === KIND.file && end - start < READ_RUN) end++;
      frame.i = end;
      sinceYield += end - start - 1;
      await regularRun(frame, start, end);
      continue;
    }
    if (kind === KIND.file) {
      await regular(abs, relText, rawName);
      continue;
    }
    if (kind === KIND.special) {
      // Sockets, FIFOs and devices are never opened, so a FIFO cannot hang the backup.
      skippedSpecial++;
      continue;
    }
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st) continue; // vanished since readdir
    const mtime = Math.floor(st.mtimeMs / 1000);
    const mode = st.mode & 0o7777;

    if (st.isDirectory()) {
      if (matcher.matches(relText, true)) continue;
      const listing = readNames(abs);
      if (!listing) continue;
      const dirRaw = rawName ? Buffer.concat([rawName, SLASH]) : undefined;
      if (opts.directoryEntries !== false) {
        await tar.header({ name: `${relText}/`, ...(dirRaw ? { rawName: dirRaw } : {}), type: TYPE.dir, mode, uid: st.uid, gid: st.gid, size: 0, mtime });
        files++;
      }
      stack.push({ rel, abs, ...listing, i: 0 });
    } else if (st.isFile()) {
      await regular(abs, relText, rawName);
    } else if (st.isSymbolicLink()) {
      if (matcher.matches(relText, false)) continue;
      let target: Buffer;
      try {
        target = fs.readlinkSync(abs, { encoding: 'buffer' });
      } catch (err) {
        if (isGone(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') continue;
        throw new ArchiveError('E_ARCHIVE_IO', `cannot read link ${relText}: ${(err as Error).message}`, { cause: err });
      }
      const rawLinkname = isUtf8(target) ? undefined : target;
      await tar.header({ name: relText, ...(rawName ? { rawName } : {}), type: TYPE.symlink, mode, uid: st.uid, gid: st.gid, size: 0, mtime, linkname: target.toString('utf8'), ...(rawLinkname ? { rawLinkname } : {}) });
      files++;
    } else {
      // Sockets, FIFOs and devices are never opened, so a FIFO cannot hang the backup.
      skippedSpecial++;
    }
  }
  // Second copies go after everything else: extraction keeps the last entry of a name (as GNU tar).
  for (const c of changes.takeRereads()) {
    throwIfAborted(signal);
    const r = await archiveFile(c.abs, c.relText, c.rawName, 2);
    if (r === 'gone' || r.changed) changes.inconsistent++;
  }
  await tar.end();
  if (skippedSpecial || skippedGone) logger.info({ skippedSpecial, skippedGone }, 'archive skipped special files and files that vanished or changed type');
  if (changes.count) logger.info({ changed: changes.count, inconsistent: changes.inconsistent }, 'files changed while being read');
  if (rawNames) logger.info({ rawNames }, 'archived names that are not valid UTF-8 as raw bytes');
  progress.final(snapshot());
  return { files, bytesRead: tar.bytesRead, changedFiles: changes.result(), tarEnd: tar.tarEnd };
}
