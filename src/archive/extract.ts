import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { quietLog, type ArchiveLog } from './archive-log.ts';
import { ArchiveError, throwIfAborted } from './archive-error.ts';
import { ActionCollector, NATIVE_SMALL_FILE_MAX, SMALL_FILE_MAX, type Action } from './extract-actions.ts';
import { NativeWriter } from './extract-native-writer.ts';
import { Skip, TargetGuard, type GuardOptions, type Place } from './extract-write.ts';
import { WriterThread, type BatchReply, type BatchTags, type SmallFileWriter } from './extract-writer.ts';
import { nativeFs, reportNativeFs } from './native-fs.ts';
import { cleanName, linkTargetInside, parentOf } from './extract-paths.ts';
import { Inflater } from './inflate.ts';
import { ProgressThrottle } from './progress.ts';
import { TYPE } from './tar-header.ts';
import { TarParser, type TarEntry } from './tar-parser.ts';
import type { ExtractOptions, ExtractResult } from './types.ts';

export { cleanName, linkTargetInside } from './extract-paths.ts';

const { O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
const MAX_SKIPS_KEPT = 1000;
/** How often, at most, a long synchronous run of writes gives the event loop a turn. */
const YIELD_EVERY_MS = 20;
/**
 * Small files after which the writer thread takes over small files (below it, starting a thread
 * costs more than it saves). Running from the TypeScript sources the thread has to load the
 * TypeScript loader first (~1 s of CPU and ~50 MiB), which costs more than it saves on a 2-core
 * machine, so there it is off unless a test turns it on; compiled, it starts in milliseconds.
 */
export const extractTuning = { writerAfter: import.meta.url.endsWith('.ts') ? Number.POSITIVE_INFINITY : 1000 };

function typeName(t: number): string {
  switch (t) {
    case TYPE.char:
      return 'character device';
    case TYPE.block:
      return 'block device';
    case TYPE.fifo:
      return 'FIFO';
    default:
      return `entry type ${JSON.stringify(String.fromCharCode(t))}`;
  }
}

/**
 * Seams for tests that need to change the tree at an exact moment (e.g. swap a checked directory
 * for a symlink right before a file is opened). Never set outside tests.
 */
export const extractTestHooks: {
  beforeOpen?: (rel: string) => void;
  /** Wait for the writer thread to load instead of writing on the main thread meanwhile. */
  waitForWriter?: boolean;
  /** Called for each file the writer thread reports on. */
  onWriterResult?: (rel: string) => void;
} = {};

/**
 * Paths inside the extractor are string keys. A valid UTF-8 path is itself; a path whose bytes are
 * not UTF-8 is NUL (never part of a tar name) + the bytes as latin1, one char per byte, so '/' and
 * '.' still split and compare the same and every check runs on the raw byte path.
 */
function keyOf(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : `\u0000${bytes.toString('latin1')}`;
}

function isRawKey(key: string): boolean {
  return key.charCodeAt(0) === 0;
}

function keyParent(key: string): string {
  if (!isRawKey(key)) return parentOf(key);
  return keyOf(Buffer.from(parentOf(key.slice(1)), 'latin1'));
}

/** The last component of a key, as the path bytes it stands for. */
function keyName(key: string): string | Buffer {
  const slash = key.lastIndexOf('/');
  if (!isRawKey(key)) return slash < 0 ? key : key.slice(slash + 1);
  return Buffer.from(key.slice(slash < 0 ? 1 : slash + 1), 'latin1');
}

/** Text for messages. */
function showKey(key: string): string {
  return isRawKey(key) ? Buffer.from(key.slice(1), 'latin1').toString('utf8') : key;
}

/**
 * Writes entries under `root`, never outside it: names are cleaned lexically, every parent
 * component is checked with lstat (a symlink or non-directory there refuses the entry, including
 * links this archive created earlier), and names are then created, replaced and linked only inside
 * a held directory whose real path was checked through /proc/self/fd, with O_NOFOLLOW|O_EXCL on
 * the last component (TargetGuard says why holding the directory is as safe as re-checking every
 * file's real path, which it replaced).
 *
 * File system calls are synchronous, not ~6 async calls per small file: on the small-file trees
 * game servers have, dispatching those to the threadpool and back cost more main-thread time than
 * the calls themselves (a 54,000-file tree took 13.9 s against tar -xzf's 5.1 s, 8.5 s of it CPU).
 * Past `writerAfter` small files, whole small files go in batches to one writer thread that runs
 * the same TargetGuard code, so the parsing here and the writing there overlap; any entry that
 * could depend on a queued file (the same path, a path below it, any link) waits for the queue
 * first, so the outcome equals in-order extraction. Inflating stays parallel on the threadpool, and
 * run() yields to the event loop every YIELD_EVERY_MS so a daemon stays responsive.
 */
class Extractor {
  readonly root: string;
  /** root with exactly one trailing slash (root may be "/"). */
  readonly #prefix: string;
  readonly #prefixBytes: Buffer;
  readonly #owner: { uid: number; gid: number } | null;
  readonly result: ExtractResult = { entries: 0, files: 0, dirs: 0, symlinks: 0, bytesRead: 0, bytesWritten: 0, skipped: [] };
  /** Directories checked as real directories (lstat, component by component): key → absolute path. */
  readonly #verified = new Map<string, string | Buffer>();
  readonly #dirs: Array<{ rel: string; mode: number; mtime: number }> = [];
  readonly #onSkip?: (name: string, reason: string) => void;
  readonly #logger: ArchiveLog;
  readonly #guard: TargetGuard;
  /** What the guard was made with; the writer thread's guard starts from the same. */
  readonly #guardOptions: GuardOptions;
  #writer: SmallFileWriter | null = null;
  #smallSeen = 0;
  /** Paths queued for the writer thread → the batch that will answer for them (the last one). */
  #pending = new Map<string, number>();
  #jobError: unknown = null;
  #lastYield = performance.now();
  #open: { fd: number; entry: TarEntry; skip: boolean } | null = null;
  #skipCount = 0;

  /** Whether small files go to the native writer (the addon is there and /proc lets the guard hold directories). */
  readonly nativeWriter: boolean;

  constructor(root: string, opts: ExtractOptions) {
    this.root = root;
    this.#prefix = root.endsWith('/') ? root : `${root}/`;
    this.#prefixBytes = Buffer.from(this.#prefix);
    this.#owner = opts.owner ?? null;
    this.#onSkip = opts.onSkip;
    this.#logger = opts.logger ?? quietLog;
    const procCheck = fs.existsSync('/proc/self/fd');
    this.#guardOptions = { prefix: this.#prefix, owner: this.#owner, procCheck };
    this.#guard = new TargetGuard(this.#guardOptions);
    this.nativeWriter = procCheck && nativeFs() !== null;
    this.#verified.set('', root);
  }

  get skipCount(): number {
    return this.#skipCount;
  }

  skip(name: string, reason: string): void {
    this.#skipCount++;
    if (this.result.skipped.length < MAX_SKIPS_KEPT) this.result.skipped.push({ name, reason });
    try {
      this.#onSkip?.(name, reason);
    } catch {
      // listener errors must not break extraction
    }
  }

  async run(actions: Action[], signal?: AbortSignal): Promise<void> {
    for (const a of actions) {
      if (this.#jobError) throw this.#jobError;
      if (performance.now() - this.#lastYield >= YIELD_EVERY_MS) {
        await yieldToLoop();
        this.#lastYield = performance.now();
        throwIfAborted(signal);
      }
      switch (a.kind) {
        case 'small': {
          // Synchronous unless it has to wait (an await per file was a visible cost on 54,000 files).
          const wait = this.#small(a.entry, a.chunks);
          if (wait) await wait;
          break;
        }
        case 'open':
          await this.#openLarge(a.entry);
          break;
        case 'data':
          this.#writeLarge(a.chunk);
          break;
        case 'close':
          this.#closeLarge();
          break;
        case 'other':
          await this.#other(a.entry);
          break;
      }
    }
    await this.#writer?.flush();
  }

  /** Cleans the name, counts the entry, reports refusals; null = nothing to do. */
  #target(e: TarEntry): string | null {
    this.result.entries++;
    const cleaned = e.rawName ? cleanName(e.rawName.toString('latin1')) : cleanName(e.name);
    if (cleaned === null) return null;
    if ('reason' in cleaned) {
      this.skip(e.name, cleaned.reason);
      return null;
    }
    return e.rawName ? keyOf(Buffer.from(cleaned.rel, 'latin1')) : cleaned.rel;
  }

  #wrap<T>(e: TarEntry, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      if (err instanceof Skip) {
        this.skip(e.name, err.message);
        return null;
      }
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError('E_ARCHIVE_IO', `extracting ${JSON.stringify(e.name)} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Waits for the writer thread when this path, or one of its parents, is still queued there. */
  async #settleConflicts(rel: string): Promise<void> {
    if (this.#pending.size === 0) return;
    // A raw path's parents may be pending under their UTF-8 keys; these names are rare, so just wait.
    if (isRawKey(rel)) return this.drain();
    let p = rel;
    for (;;) {
      if (this.#pending.has(p)) return this.drain();
      const slash = p.lastIndexOf('/');
      if (slash < 0) return;
      p = p.slice(0, slash);
    }
  }

  /** Waits until every queued small file is written (or refused). */
  async drain(): Promise<void> {
    if (this.#writer) await this.#writer.drain();
    if (this.#jobError) throw this.#jobError;
  }

  async close(): Promise<void> {
    const w = this.#writer;
    this.#writer = null;
    await w?.close();
    this.#guard.release();
  }

  #writerBatch(tags: BatchTags, r: BatchReply): void {
    const end = r.fatal ? r.fatal.index : tags.rels.length;
    for (let i = 0; i < tags.rels.length; i++) {
      const rel = tags.rels[i]!;
      if (this.#pending.get(rel) === tags.id) this.#pending.delete(rel);
      extractTestHooks.onWriterResult?.(rel);
    }
    let skipped = 0;
    for (const [i, reason] of r.skips) {
      this.skip(tags.entryNames[i]!, reason);
      skipped++;
    }
    this.result.files += end - skipped;
    this.result.bytesWritten += r.bytes;
    const f = r.fatal;
    if (f?.unsafe !== undefined) this.#jobError ??= new ArchiveError('E_ARCHIVE_UNSAFE', f.unsafe);
    else if (f) this.#jobError ??= new ArchiveError('E_ARCHIVE_IO', `extracting ${JSON.stringify(tags.entryNames[f.index])} failed: ${f.error}`);
  }

  #small(e: TarEntry, chunks: Buffer[]): Promise<void> | undefined {
    const rel = this.#target(e);
    if (rel === null) return;
    const parent = keyParent(rel);
    if (++this.#smallSeen === 1) this.#startNativeWriter();
    if (this.#smallSeen === extractTuning.writerAfter && !this.#writer) {
      try {
        reportNativeFs(this.#logger);
        this.#writer = new WriterThread({ ...this.#guardOptions, nativeFs: nativeFs() !== null }, (tags, r) => this.#writerBatch(tags, r));
      } catch (err) {
        // No thread (e.g. its module missing from a bundle): this thread goes on writing by itself.
        this.#logger.warn({ err: (err as Error).message }, 'small-file writer thread not started');
      }
    }
    const writer = this.#writer?.ready ? this.#writer : null;
    const dir = this.#verified.get(parent);
    // Queued behind earlier small files, a file needs no wait for them (the writer writes in
    // order); only a directory not yet checked may have a queued file at its path. A name that is
    // not UTF-8 goes the long way (it drains the queue first, then this thread writes it).
    if (dir === undefined || !writer || isRawKey(rel)) return this.#smallChecked(e, rel, parent, chunks);
    return this.#queueSmall(writer, e, rel, { dir, name: keyName(rel) }, chunks);
  }

  /** The native writer (extract-native-writer.ts) when the addon and /proc are there: from the first small file. */
  #startNativeWriter(): void {
    const nfs = nativeFs();
    if (!nfs || !this.nativeWriter) return;
    this.#writer = new NativeWriter(nfs, this.#guard, this.#owner, (tags, r) => this.#writerBatch(tags, r));
  }

  #queueSmall(writer: SmallFileWriter, e: TarEntry, rel: string, place: Place, chunks: Buffer[]): Promise<void> | undefined {
    extractTestHooks.beforeOpen?.(rel);
    const id = writer.batchId;
    // The native writer holds (and checks) the directory here: a refusal or failure is this entry's.
    const queued = this.#wrap(e, () => ({ wait: writer.add(rel, e.name, place, e.mode, e.mtime, chunks) }));
    if (queued) this.#pending.set(rel, id);
    return queued?.wait;
  }

  /** #small() when the parent still needs checking or this thread writes the file itself. */
  async #smallChecked(e: TarEntry, rel: string, parent: string, chunks: Buffer[]): Promise<void> {
    if (this.#writer && extractTestHooks.waitForWriter) await this.#writer.whenReady();
    await this.#settleConflicts(rel);
    const dir = this.#wrap(e, () => this.#ensureDir(parent, true));
    if (dir === null) return;
    const place: Place = { dir, name: keyName(rel) };
    const writer = this.#writer?.ready && this.#writer.accepts(place) ? this.#writer : null;
    if (writer) {
      await this.#queueSmall(writer, e, rel, place, chunks);
      return;
    }
    this.#wrap(e, () => {
      extractTestHooks.beforeOpen?.(rel);
      this.result.bytesWritten += this.#guard.writeSmall({ dir: place.dir, name: place.name, mode: e.mode, mtime: e.mtime, data: chunks });
      this.result.files++;
    });
  }

  /** Where `rel` goes, once its parent is checked. */
  #place(rel: string): Place {
    return { dir: this.#ensureDir(keyParent(rel), true), name: keyName(rel) };
  }

  async #openLarge(e: TarEntry): Promise<void> {
    const rel = this.#target(e);
    // Data actions still follow; a refused entry's data is simply dropped.
    this.#open = { fd: -1, entry: e, skip: true };
    if (rel === null) return;
    await this.#settleConflicts(rel);
    const opened = this.#wrap(e, () => {
      const place = this.#place(rel);
      extractTestHooks.beforeOpen?.(rel);
      return this.#guard.open(place, 0o600);
    });
    if (opened === null) return;
    this.#open = { fd: opened.fd, entry: e, skip: false };
    try {
      if (opened.existing) fs.ftruncateSync(opened.fd, 0);
    } catch (err) {
      this.closeOpen();
      throw err;
    }
  }

  #writeLarge(chunk: Buffer): void {
    const o = this.#open;
    if (!o || o.skip) return;
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(o.fd, chunk, off, chunk.length - off);
    this.result.bytesWritten += chunk.length;
  }

  #closeLarge(): void {
    const o = this.#open;
    this.#open = null;
    if (!o || o.skip) return;
    try {
      if (this.#owner) fs.fchownSync(o.fd, this.#owner.uid, this.#owner.gid);
      fs.fchmodSync(o.fd, o.entry.mode & 0o1777);
      fs.futimesSync(o.fd, o.entry.mtime, o.entry.mtime);
    } finally {
      fs.closeSync(o.fd);
    }
    this.result.files++;
  }

  closeOpen(): void {
    const o = this.#open;
    this.#open = null;
    if (o && !o.skip && o.fd >= 0) {
      try {
        fs.closeSync(o.fd);
      } catch {
        // already closed
      }
    }
  }

  async #other(e: TarEntry): Promise<void> {
    const rel = this.#target(e);
    if (rel === null) return;
    // Links may point at files still queued; everything else only conflicts by path.
    if (e.type === TYPE.symlink || e.type === TYPE.hardlink) await this.drain();
    else await this.#settleConflicts(rel);
    this.#wrap(e, () => {
      switch (e.type) {
        case TYPE.dir:
        case 0x44: // GNU dump directory: a directory plus a listing we do not need
          this.#dir(rel, e);
          return;
        case TYPE.symlink:
          this.#symlink(rel, e);
          return;
        case TYPE.hardlink:
          this.#hardlink(rel, e);
          return;
        default:
          throw new Skip(`${typeName(e.type)} not extracted`);
      }
    });
  }

  #abs(rel: string): string | Buffer {
    if (isRawKey(rel)) return Buffer.concat([this.#prefixBytes, Buffer.from(rel.slice(1), 'latin1')]);
    return this.#prefix + rel;
  }

  /** Makes sure every component of `relDir` is a real directory (creating missing ones); its absolute path. */
  #ensureDir(relDir: string, create: boolean): string | Buffer {
    const known = this.#verified.get(relDir);
    if (known !== undefined) return known;
    this.#ensureDir(keyParent(relDir), create);
    const abs = this.#abs(relDir);
    let st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st && create) {
      let made = false;
      try {
        fs.mkdirSync(abs, 0o755);
        made = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (made && this.#owner && st?.isDirectory()) fs.lchownSync(abs, this.#owner.uid, this.#owner.gid);
    }
    if (!st) throw new Skip(`${showKey(relDir)} does not exist`);
    if (st.isSymbolicLink()) throw new Skip(`path passes through the symbolic link ${showKey(relDir)}`);
    if (!st.isDirectory()) throw new Skip(`${showKey(relDir)} is not a directory`);
    this.#verified.set(relDir, abs);
    return abs;
  }

  /** Removes a non-directory so a new entry can take its place; refuses to replace a directory. */
  #clearSlot(rel: string): void {
    const st = fs.lstatSync(this.#abs(rel), { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) throw new Skip('a directory already exists at this path');
    this.#unlinkInside(rel);
  }

  #unlinkInside(rel: string): void {
    this.#guard.unlink(this.#place(rel));
  }

  #dir(rel: string, e: TarEntry): void {
    this.#ensureDir(keyParent(rel), true);
    if (!this.#verified.has(rel)) {
      const st = fs.lstatSync(this.#abs(rel), { throwIfNoEntry: false });
      if (st && !st.isDirectory()) this.#unlinkInside(rel); // a file or link there is replaced, never followed
      this.#ensureDir(rel, true);
    }
    this.#dirs.push({ rel, mode: e.mode & 0o1777, mtime: e.mtime });
    this.result.dirs++;
  }

  #symlink(rel: string, e: TarEntry): void {
    // Judged on the bytes (as latin1: '/' and '.' are the same) when the target is not UTF-8.
    const target = e.rawLinkname ? e.rawLinkname.toString('latin1') : e.linkname;
    const relPath = isRawKey(rel) ? rel.slice(1) : rel;
    if (target.startsWith('/')) throw new Skip(`symbolic link target ${JSON.stringify(e.linkname)} is absolute`);
    if (!linkTargetInside(relPath, target)) throw new Skip(`symbolic link target ${JSON.stringify(e.linkname)} leaves the target directory`);
    const place = this.#place(rel);
    this.#clearSlot(rel);
    // Created in the held directory, like the files (lchown and lutimes act on the link itself).
    const abs = this.#guard.at(place);
    fs.symlinkSync(e.rawLinkname ?? e.linkname, abs);
    if (this.#owner) fs.lchownSync(abs, this.#owner.uid, this.#owner.gid);
    try {
      fs.lutimesSync(abs, e.mtime, e.mtime);
    } catch {
      // not every filesystem supports link timestamps
    }
    this.result.symlinks++;
  }

  #hardlink(rel: string, e: TarEntry): void {
    const cleaned = e.rawLinkname ? cleanName(e.rawLinkname.toString('latin1')) : cleanName(e.linkname);
    if (cleaned === null || 'reason' in cleaned) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is outside the target directory`);
    const target = { rel: e.rawLinkname ? keyOf(Buffer.from(cleaned.rel, 'latin1')) : cleaned.rel };
    try {
      this.#ensureDir(keyParent(target.rel), false);
    } catch (err) {
      if (err instanceof Skip) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is not reachable: ${err.message}`);
      throw err;
    }
    const tst = fs.lstatSync(this.#abs(target.rel), { throwIfNoEntry: false });
    if (!tst) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} does not exist`);
    if (!tst.isFile()) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is not a regular file`);
    const place = this.#place(rel);
    if (rel === target.rel) return;
    this.#clearSlot(rel);
    // link(2) never follows a symlink in the target's last component (checked above as a file).
    fs.linkSync(this.#abs(target.rel), this.#guard.at(place));
    this.result.files++;
  }

  /** Directory modes and mtimes last, deepest first, so writing their contents cannot disturb them. */
  finishDirs(): void {
    for (let i = this.#dirs.length - 1; i >= 0; i--) {
      const d = this.#dirs[i]!;
      let fd: number;
      try {
        fd = fs.openSync(this.#abs(d.rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (err) {
        this.#logger.warn({ dir: d.rel, err: (err as Error).message }, 'cannot restore directory metadata');
        continue;
      }
      try {
        if (this.#owner) fs.fchownSync(fd, this.#owner.uid, this.#owner.gid);
        fs.fchmodSync(fd, d.mode);
        fs.futimesSync(fd, d.mtime, d.mtime);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

export async function extractArchive(input: NodeJS.ReadableStream | Readable, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
    if (!fs.statSync(realRoot).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    (input as Readable).destroy?.();
    throw new ArchiveError('E_ARCHIVE_ROOT', `cannot extract into ${root}: ${(err as Error).message}`, { cause: err });
  }
  const ex = new Extractor(realRoot, opts);
  const inflater = new Inflater({ signal: opts.signal, readLimit: opts.readLimit });
  const collector = new ActionCollector(ex.nativeWriter ? NATIVE_SMALL_FILE_MAX : SMALL_FILE_MAX);
  const parser = new TarParser(collector);
  const progress = new ProgressThrottle(opts.onProgress);
  const snapshot = () => ({ bytesRead: inflater.bytesIn, filesDone: ex.result.entries, bytesWritten: ex.result.bytesWritten, totalBytes: null });
  try {
    try {
      for await (const chunk of inflater.chunks(input)) {
        throwIfAborted(opts.signal);
        if (!parser.ended) parser.push(chunk);
        await ex.run(collector.take(), opts.signal);
        progress.tick(snapshot);
      }
    } catch (err) {
      // Whatever the parser completed before the fault is still written (the partial restore).
      if (!(err instanceof ArchiveError) || err.code === 'E_ARCHIVE_ABORTED' || err.code === 'E_ARCHIVE_UNSAFE') throw err;
      await ex.run(collector.take(), opts.signal);
      throw err;
    }
    parser.end();
    await ex.drain();
    ex.finishDirs();
    await ex.close();
  } catch (err) {
    await ex.drain().catch(() => undefined);
    await ex.close();
    ex.closeOpen();
    (input as Readable).destroy?.();
    const ae =
      err instanceof ArchiveError
        ? err
        : new ArchiveError('E_ARCHIVE_IO', `extraction failed: ${(err as Error).message}`, { cause: err });
    ex.result.bytesRead = inflater.bytesIn;
    ae.partial = { ...ex.result, skipped: [...ex.result.skipped] };
    const name = parser.currentName;
    if (name !== null && ae.meta === undefined && ae.code !== 'E_ARCHIVE_ABORTED') {
      (ae as { meta?: Record<string, unknown> }).meta = { entry: name };
    }
    throw ae;
  }
  ex.result.bytesRead = inflater.bytesIn;
  if (ex.skipCount > 0) (opts.logger ?? quietLog).info({ skipped: ex.skipCount }, 'extraction skipped entries');
  progress.final(snapshot());
  return ex.result;
}
