import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { silentLogger, type Logger } from '../core/logger.ts';
import { ArchiveError, throwIfAborted } from './archive-error.ts';
import { Inflater } from './inflate.ts';
import { ProgressThrottle } from './progress.ts';
import { TYPE } from './tar-header.ts';
import { TarParser, type EntryBody, type EntryHandler, type TarEntry } from './tar-parser.ts';
import type { ExtractOptions, ExtractResult } from './types.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
const MAX_SKIPS_KEPT = 1000;

/** Lexically cleans an archive name into a root-relative path, or says why it is refused. */
export function cleanName(raw: string): { rel: string } | { reason: string } | null {
  if (raw.startsWith('/')) return { reason: 'absolute path' };
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return { reason: 'path contains a .. component' };
    parts.push(p);
  }
  if (parts.length === 0) return null; // the root itself ("./")
  return { rel: parts.join('/') };
}

/** Whether a symlink at `rel` with this target stays inside the root, judged lexically. */
export function linkTargetInside(rel: string, target: string): boolean {
  if (target === '' || target.startsWith('/')) return false;
  const stack = rel.split('/');
  stack.pop();
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else stack.push(p);
  }
  return true;
}

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

class Skip extends Error {}

/**
 * Writes entries under `root`, never outside it: names are cleaned lexically, every parent
 * component is checked with lstat (a symlink or non-directory there refuses the entry, including
 * links this archive created earlier), files are opened O_NOFOLLOW|O_EXCL, and each opened file's
 * real path is re-checked through /proc/self/fd as a second line of defence.
 */
class Extractor implements EntryHandler {
  readonly root: string;
  readonly result: ExtractResult = { entries: 0, files: 0, dirs: 0, symlinks: 0, bytesRead: 0, bytesWritten: 0, skipped: [] };
  readonly #verified = new Set<string>(['']);
  readonly #dirs: Array<{ rel: string; mode: number; mtime: number }> = [];
  readonly #onSkip?: (name: string, reason: string) => void;
  readonly #logger: Logger;
  readonly #procCheck: boolean;
  #openFd = -1;
  #skipCount = 0;

  constructor(root: string, opts: ExtractOptions) {
    this.root = root;
    this.#onSkip = opts.onSkip;
    this.#logger = opts.logger ?? silentLogger();
    this.#procCheck = fs.existsSync('/proc/self/fd');
  }

  skip(name: string, reason: string): null {
    this.#skipCount++;
    if (this.result.skipped.length < MAX_SKIPS_KEPT) this.result.skipped.push({ name, reason });
    try {
      this.#onSkip?.(name, reason);
    } catch {
      // listener errors must not break extraction
    }
    return null;
  }

  onEntry(e: TarEntry): EntryBody | null {
    this.result.entries++;
    const cleaned = cleanName(e.name);
    if (cleaned === null) return null;
    if ('reason' in cleaned) return this.skip(e.name, cleaned.reason);
    const rel = cleaned.rel;
    try {
      switch (e.type) {
        case TYPE.file:
        case TYPE.oldFile:
        case TYPE.contiguous:
          return this.#file(rel, e);
        case TYPE.dir:
          this.#dir(rel, e);
          return null;
        case 0x44: // GNU dump directory: a directory plus a listing we do not need
          this.#dir(rel, e);
          return null;
        case TYPE.symlink:
          this.#symlink(rel, e);
          return null;
        case TYPE.hardlink:
          this.#hardlink(rel, e);
          return null;
        default:
          return this.skip(e.name, `${typeName(e.type)} not extracted`);
      }
    } catch (err) {
      if (err instanceof Skip) return this.skip(e.name, err.message);
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError('E_ARCHIVE_IO', `extracting ${JSON.stringify(e.name)} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  #abs(rel: string): string {
    return `${this.root}/${rel}`;
  }

  /** Makes sure every component of `relDir` is a real directory (creating missing ones). */
  #ensureDir(relDir: string, create: boolean): void {
    if (this.#verified.has(relDir)) return;
    const slash = relDir.lastIndexOf('/');
    this.#ensureDir(slash < 0 ? '' : relDir.slice(0, slash), create);
    const abs = this.#abs(relDir);
    let st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st && create) {
      try {
        fs.mkdirSync(abs, 0o755);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = fs.lstatSync(abs, { throwIfNoEntry: false });
    }
    if (!st) throw new Skip(`${relDir} does not exist`);
    if (st.isSymbolicLink()) throw new Skip(`path passes through the symbolic link ${relDir}`);
    if (!st.isDirectory()) throw new Skip(`${relDir} is not a directory`);
    this.#verified.add(relDir);
  }

  #parentOf(rel: string): string {
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? '' : rel.slice(0, slash);
  }

  /** Removes a non-directory at `abs` so a new entry can take its place; refuses to replace a directory. */
  #clearSlot(rel: string): void {
    const st = fs.lstatSync(this.#abs(rel), { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) throw new Skip('a directory already exists at this path');
    fs.unlinkSync(this.#abs(rel));
  }

  #checkInside(fd: number, rel: string): void {
    if (!this.#procCheck) return;
    let real: string;
    try {
      real = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    if (!real.startsWith(`${this.root}/`)) {
      throw new ArchiveError('E_ARCHIVE_UNSAFE', `refusing to write ${JSON.stringify(rel)}: it resolved outside the target directory (the tree changed during extraction)`);
    }
  }

  #file(rel: string, e: TarEntry): EntryBody {
    this.#ensureDir(this.#parentOf(rel), true);
    const abs = this.#abs(rel);
    let fd: number;
    try {
      fd = fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) throw new Skip('a directory already exists at this path');
      if (st.isFile() && st.nlink === 1) {
        // Overwrite in place (truncate), never through a link.
        fd = fs.openSync(abs, O_WRONLY | O_TRUNC | O_NOFOLLOW);
      } else {
        // A symlink, a multiply-linked file (shared inode) or a special file: replace the name.
        fs.unlinkSync(abs);
        fd = fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      }
    }
    this.#openFd = fd;
    try {
      this.#checkInside(fd, rel);
    } catch (err) {
      this.#closeOpen();
      throw err;
    }
    const result = this.result;
    const self = this;
    return {
      write(chunk: Buffer): void {
        let off = 0;
        while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
        result.bytesWritten += chunk.length;
      },
      end(): void {
        fs.fchmodSync(fd, e.mode & 0o1777);
        fs.futimesSync(fd, e.mtime, e.mtime);
        self.#openFd = -1;
        fs.closeSync(fd);
        result.files++;
      },
    };
  }

  #dir(rel: string, e: TarEntry): void {
    this.#ensureDir(this.#parentOf(rel), true);
    if (!this.#verified.has(rel)) {
      const st = fs.lstatSync(this.#abs(rel), { throwIfNoEntry: false });
      if (st && !st.isDirectory()) fs.unlinkSync(this.#abs(rel)); // a file or link there is replaced, never followed
      this.#ensureDir(rel, true);
    }
    this.#dirs.push({ rel, mode: e.mode & 0o1777, mtime: e.mtime });
    this.result.dirs++;
  }

  #symlink(rel: string, e: TarEntry): void {
    if (e.linkname.startsWith('/')) throw new Skip(`symbolic link target ${JSON.stringify(e.linkname)} is absolute`);
    if (!linkTargetInside(rel, e.linkname)) throw new Skip(`symbolic link target ${JSON.stringify(e.linkname)} leaves the target directory`);
    this.#ensureDir(this.#parentOf(rel), true);
    this.#clearSlot(rel);
    const abs = this.#abs(rel);
    fs.symlinkSync(e.linkname, abs);
    try {
      fs.lutimesSync(abs, e.mtime, e.mtime);
    } catch {
      // not every filesystem supports link timestamps
    }
    this.result.symlinks++;
  }

  #hardlink(rel: string, e: TarEntry): void {
    const target = cleanName(e.linkname);
    if (target === null || 'reason' in target) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is outside the target directory`);
    try {
      this.#ensureDir(this.#parentOf(target.rel), false);
    } catch (err) {
      if (err instanceof Skip) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is not reachable: ${err.message}`);
      throw err;
    }
    const tst = fs.lstatSync(this.#abs(target.rel), { throwIfNoEntry: false });
    if (!tst) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} does not exist`);
    if (!tst.isFile()) throw new Skip(`hard link target ${JSON.stringify(e.linkname)} is not a regular file`);
    this.#ensureDir(this.#parentOf(rel), true);
    if (rel === target.rel) return;
    this.#clearSlot(rel);
    fs.linkSync(this.#abs(target.rel), this.#abs(rel));
    this.result.files++;
  }

  #closeOpen(): void {
    if (this.#openFd >= 0) {
      try {
        fs.closeSync(this.#openFd);
      } catch {
        // already closed
      }
      this.#openFd = -1;
    }
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
        fs.fchmodSync(fd, d.mode);
        fs.futimesSync(fd, d.mtime, d.mtime);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  abort(): void {
    this.#closeOpen();
  }

  get skipCount(): number {
    return this.#skipCount;
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
  const parser = new TarParser(ex);
  const progress = new ProgressThrottle(opts.onProgress);
  const snapshot = () => ({ bytesRead: inflater.bytesIn, filesDone: ex.result.entries, bytesWritten: ex.result.bytesWritten, totalBytes: null });
  try {
    for await (const chunk of inflater.chunks(input)) {
      throwIfAborted(opts.signal);
      if (!parser.ended) parser.push(chunk);
      progress.tick(snapshot);
      // Inflated chunks can arrive back to back; let other work run between them.
      await yieldToLoop();
    }
    parser.end();
    ex.finishDirs();
  } catch (err) {
    ex.abort();
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
  if (ex.skipCount > 0) (opts.logger ?? silentLogger()).info({ skipped: ex.skipCount }, 'extraction skipped entries');
  progress.final(snapshot());
  return ex.result;
}
