/**
 * Browsing a local backup through its index (backwing, issue 14): list a folder, search names,
 * read one file or a folder, and pick entries for a restore of selected paths.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { AppError } from '../../core/app-error.ts';
import { IndexMismatchError, readIndexedFile, readIndexedTar, type IndexEntry, type IndexView } from '../../archive/index.ts';
import type { BackupComparison, BackupFileChange, BackupFileEntry, BackupFileList } from '../../wire/daemon-api.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import { localArchive, s3Archive, type BackupIndexes, type LocatedArchive, type S3Urls } from './backup-indexes.ts';
import type { BackupStore } from './backup-store.ts';
import type { HostAllowlist } from './ssrf-guard.ts';
import type { ResticRepo } from '../restic/restic-cli.ts';
import type { ResticBrowse } from '../restic/restic-browse.ts';
import { resticIncludeOf } from '../restic/restic-tree.ts';

export const browseErrors = {
  badPath: (why: string) => new AppError('E_PATH_INVALID', 422, `Invalid path: ${why}.`),
  notInBackup: (path: string) => new AppError('E_PATH_NOT_FOUND', 404, `"${path}" is not in this backup.`, { meta: { path } }),
  building: () => new AppError('E_INDEX_BUILDING', 409, 'The index of this backup is being built; try again in a moment.'),
  badPattern: () => new AppError('E_PATTERN_INVALID', 422, 'The search pattern must be 1 to 200 characters without NUL.'),
};

/** A path inside a backup: relative, no `..`, no NUL; `.` and empty components dropped. '' = the root. */
export function checkBackupPath(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '' || raw === '/') return '';
  if (typeof raw !== 'string') throw browseErrors.badPath('it must be a string');
  if (raw.includes('\0')) throw browseErrors.badPath('it contains a NUL byte');
  if (raw.startsWith('/')) throw browseErrors.badPath('it must be relative to the backup, not absolute');
  if (raw.length > 4096) throw browseErrors.badPath('it is longer than 4096 characters');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw browseErrors.badPath('it may not contain ".."');
  return parts.join('/');
}

function toWire(e: IndexEntry): BackupFileEntry {
  const slash = e.path.lastIndexOf('/');
  const out: BackupFileEntry = {
    name: e.path.slice(slash + 1),
    path: e.path,
    type: e.type,
    size: e.size,
    mode: e.mode,
    modified_at: e.tarOffset < 0 ? null : new Date(e.mtime * 1000).toISOString(),
  };
  if (e.linkname !== undefined) out.link_target = e.linkname;
  return out;
}

/** `*` any run, `?` one character, case-insensitive, matched against the name (not the folder). */
export function nameMatcher(pattern: string): (name: string) => boolean {
  const p = pattern.toLowerCase();
  const wild = p.includes('*') || p.includes('?');
  if (!wild) return (name) => name.toLowerCase().includes(p);
  // Iterative glob with one backtrack point: linear-ish, no RegExp, no catastrophic cases.
  return (name) => {
    const s = name.toLowerCase();
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (j < p.length && (p[j] === '?' || p[j] === s[i])) {
        i++;
        j++;
      } else if (j < p.length && p[j] === '*') {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else return false;
    }
    while (j < p.length && p[j] === '*') j++;
    return j === p.length;
  };
}

function page<T>(items: T[], pageNo: number, perPage: number): T[] {
  return items.slice((pageNo - 1) * perPage, pageNo * perPage);
}

export interface OpenedPath {
  kind: 'file' | 'dir';
  /** File name (or `<folder>.tar.gz`) for Content-Disposition. */
  name: string;
  /** Bytes of a file; null for a folder (its .tar.gz is made on the fly). */
  size: number | null;
  stream: Readable;
}

/** Which backup: a local one of the server, or an S3 one through the URLs the panel presigned. */
export interface BackupRef {
  serverUuid: string;
  backup: string;
  s3?: S3Urls;
  /** A restic backup: its snapshot in this repository (listed by `restic ls`, read by `restic dump`). */
  restic?: ResticRepo;
}

/** A restore of selected paths of a restic backup: what to pass to `restic restore`. */
export interface ResticRestorePlan {
  snapshotId: string;
  /** `--include` patterns, one per chosen path. */
  includes: string[];
  /** The file contents the chosen paths hold, what the restore's progress counts against. */
  totalBytes: number;
  totalFiles: number;
}

export class BrowseService {
  constructor(private readonly deps: { store: BackupStore; indexes: BackupIndexes; allowlist: HostAllowlist; restic?: ResticBrowse }) {}

  /** The backup's listing: its index, or for a restic backup its snapshot's; null while an index is built. */
  async #viewOf(ref: BackupRef): Promise<IndexView | null> {
    if (ref.restic) return (await this.#resticOpen(ref, ref.restic)).view;
    return this.#view(await this.#found(ref));
  }

  #resticOpen(ref: BackupRef, repo: ResticRepo) {
    const uuid = canonicalUuid(ref.backup);
    if (!uuid) throw daemonErrors.badUuid();
    if (!this.deps.restic) throw daemonErrors.badRequest('restic backups cannot be browsed on this daemon.');
    return this.deps.restic.open(repo, ref.serverUuid, uuid);
  }

  async #found(ref: BackupRef): Promise<LocatedArchive> {
    const uuid = canonicalUuid(ref.backup);
    if (!uuid) throw daemonErrors.badUuid();
    if (ref.s3) return s3Archive(uuid, ref.s3, this.deps.allowlist, this.deps.store.dir);
    const found = await this.deps.store.claim(ref.serverUuid, uuid);
    if (!found) throw daemonErrors.backupNotFound();
    return localArchive(found, this.deps.store);
  }

  async #view(found: LocatedArchive): Promise<IndexView | null> {
    const v = await this.deps.indexes.load(found);
    if ('building' in v) {
      if (v.error) throw new AppError('E_INDEX_BUILD', 422, `The index of this backup could not be built: ${v.error}`);
      return null;
    }
    return v;
  }

  async list(ref: BackupRef, rawPath: unknown, pageNo: number, perPage: number): Promise<BackupFileList> {
    const path = checkBackupPath(rawPath);
    const view = await this.#viewOf(ref);
    if (!view) return { status: 'building', path, entries: [], total: 0, page: pageNo, per_page: perPage };
    if (!view.isDirectory(path)) {
      if (view.get(path)) throw browseErrors.badPath(`"${path}" is a file, not a folder`);
      throw browseErrors.notInBackup(path);
    }
    const all = view.list(path);
    return { status: 'ready', path, entries: page(all, pageNo, perPage).map(toWire), total: all.length, page: pageNo, per_page: perPage };
  }

  async search(ref: BackupRef, pattern: unknown, pageNo: number, perPage: number): Promise<BackupFileList> {
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 200 || pattern.includes('\0')) throw browseErrors.badPattern();
    const view = await this.#viewOf(ref);
    if (!view) return { status: 'building', path: '', entries: [], total: 0, page: pageNo, per_page: perPage };
    const match = nameMatcher(pattern);
    const hits: IndexEntry[] = [];
    for (const e of view.all()) if (match(e.path.slice(e.path.lastIndexOf('/') + 1))) hits.push(e);
    return { status: 'ready', path: '', entries: page(hits, pageNo, perPage).map(toWire), total: hits.length, page: pageNo, per_page: perPage };
  }

  /** One entry (a folder without an entry of its own included); 404 naming a path the backup lacks. */
  async stat(ref: BackupRef, rawPath: unknown): Promise<BackupFileEntry | { building: true }> {
    const path = checkBackupPath(rawPath);
    const view = await this.#viewOf(ref);
    if (!view) return { building: true };
    const e = view.get(path);
    if (e) return toWire(e);
    if (!view.isDirectory(path)) throw browseErrors.notInBackup(path);
    return toWire({ path, type: 'dir', size: 0, mode: 0o755, mtime: 0, tarOffset: -1 });
  }

  /** What changed from backup `a` to backup `b`, from their indexes alone; 'building' until both are there. */
  async compare(a: BackupRef, b: BackupRef, pageNo: number, perPage: number): Promise<BackupComparison> {
    const [va, vb] = await Promise.all([this.#viewOf(a), this.#viewOf(b)]);
    if (!va || !vb) return { status: 'building', entries: [], counts: { added: 0, removed: 0, changed: 0 }, size_delta: 0, total: 0, page: pageNo, per_page: perPage };
    const before = new Map<string, IndexEntry>();
    for (const e of va.all()) before.set(e.path, e);
    const out: BackupFileChange[] = [];
    const counts = { added: 0, removed: 0, changed: 0 };
    let delta = 0;
    const at = (e: IndexEntry) => new Date(e.mtime * 1000).toISOString();
    for (const e of vb.all()) {
      const old = before.get(e.path);
      before.delete(e.path);
      if (!old) {
        counts.added++;
        delta += e.size;
        out.push({ path: e.path, change: 'added', type: e.type, size: e.size, size_before: 0, modified_at: at(e) });
      } else if (old.type !== e.type || old.size !== e.size || (e.type !== 'dir' && old.mtime !== e.mtime) || old.linkname !== e.linkname) {
        counts.changed++;
        delta += e.size - old.size;
        out.push({ path: e.path, change: 'changed', type: e.type, size: e.size, size_before: old.size, modified_at: at(e) });
      }
    }
    for (const old of before.values()) {
      counts.removed++;
      delta -= old.size;
      out.push({ path: old.path, change: 'removed', type: old.type, size: 0, size_before: old.size, modified_at: at(old) });
    }
    out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    return { status: 'ready', entries: page(out, pageNo, perPage), counts, size_delta: delta, total: out.length, page: pageNo, per_page: perPage };
  }

  /** One file raw, or a folder as a .tar.gz of just that subtree. */
  async open(ref: BackupRef, rawPath: unknown): Promise<OpenedPath> {
    const path = checkBackupPath(rawPath);
    if (ref.restic) return this.#openRestic(ref, ref.restic, path);
    const found = await this.#found(ref);
    const view = await this.#view(found);
    if (!view) throw browseErrors.building();
    const src = found.source;
    const entry = view.get(path);
    const base = path === '' ? 'backup' : path.slice(path.lastIndexOf('/') + 1);
    if (entry && entry.type === 'file') {
      const pick = view.select([path]).picks.at(-1)!;
      return { kind: 'file', name: base, size: entry.size, stream: await this.#guard(found, readIndexedFile(src, view.index, pick)) };
    }
    if (!view.isDirectory(path)) {
      if (entry) throw browseErrors.badPath(`"${path}" is a ${entry.type}, which cannot be downloaded on its own`);
      throw browseErrors.notInBackup(path);
    }
    const { picks } = view.select([path]);
    const tar = await this.#guard(found, readIndexedTar(src, view.index, picks));
    return { kind: 'dir', name: `${base}.tar.gz`, size: null, stream: tar.pipe(createGzip({ level: 1 })) };
  }

  /** A restic backup's file through `restic dump` (raw), or a folder through `restic dump --archive tar` and gzip. */
  async #openRestic(ref: BackupRef, repo: ResticRepo, path: string): Promise<OpenedPath> {
    const { snapshotId, view } = await this.#resticOpen(ref, repo);
    const entry = view.get(path);
    const base = path === '' ? 'backup' : path.slice(path.lastIndexOf('/') + 1);
    const isFile = entry?.type === 'file';
    if (!isFile && !view.isDirectory(path)) {
      if (entry) throw browseErrors.badPath(`"${path}" is a ${entry.type}, which cannot be downloaded on its own`);
      throw browseErrors.notInBackup(path);
    }
    const stop = new AbortController();
    const out = new PassThrough();
    // The reader going away stops restic.
    out.once('close', () => stop.abort(new Error('download closed')));
    this.deps.restic!.restic.dumpTar(repo, snapshotId, stop.signal, (child) => {
      if (isFile) child.stdout!.pipe(out);
      else child.stdout!.pipe(createGzip({ level: 1 })).pipe(out);
    }, path).catch((err: unknown) => {
      // The headers are gone: cut the stream so the download fails rather than ends short.
      if (!stop.signal.aborted) out.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    return isFile ? { kind: 'file', name: base, size: entry.size, stream: out } : { kind: 'dir', name: `${base}.tar.gz`, size: null, stream: out };
  }

  /**
   * A restore of selected paths of a restic backup, checked before the restore starts like an
   * archive's (422 for a bad path, 404 naming the first the snapshot lacks).
   */
  async resticRestorePlan(ref: BackupRef & { restic: ResticRepo }, rawPaths: unknown[]): Promise<ResticRestorePlan> {
    const paths = rawPaths.map(checkBackupPath);
    const { snapshotId, view } = await this.#resticOpen(ref, ref.restic);
    const { picks, missing } = view.select(paths);
    if (missing.length > 0) throw browseErrors.notInBackup(missing[0]!);
    let totalBytes = 0;
    let totalFiles = 0;
    for (const k of picks) {
      const e = view.index.entries[k]!;
      if (e.type !== 'file') continue;
      totalBytes += e.size;
      totalFiles++;
    }
    // '' (the whole backup) needs no pattern: every path is included.
    const includes = paths.includes('') ? [] : [...new Set(paths)].map(resticIncludeOf);
    return { snapshotId, includes, totalBytes, totalFiles };
  }

  /**
   * A gzip stream of the chosen paths for a restore, checked before the restore starts: every
   * path must be in the backup (404 naming the first missing one). With `keepNewer`, files whose
   * copy on the server is newer than the backup's are left out. `totalBytes`: the file contents the
   * stream carries, what the restore's progress counts against.
   */
  async restoreInput(ref: BackupRef, rawPaths: unknown[], keepNewer: boolean, serverDir: string): Promise<{ input: Readable; totalBytes: number }> {
    const paths = rawPaths.map(checkBackupPath);
    const found = await this.#found(ref);
    const view = await this.#view(found);
    if (!view) throw browseErrors.building();
    const { picks, missing } = view.select(paths);
    if (missing.length > 0) throw browseErrors.notInBackup(missing[0]!);
    let chosen = picks;
    if (keepNewer) {
      const keep: number[] = [];
      for (const k of picks) {
        const e = view.index.entries[k]!;
        if (e.type === 'file') {
          const st = await lstat(join(serverDir, e.path)).catch(() => null);
          if (st && Math.floor(st.mtimeMs / 1000) > e.mtime) continue;
        }
        keep.push(k);
      }
      chosen = keep;
    }
    // What extraction counts as written: file contents (folders, links and hard links write none).
    const totalBytes = chosen.reduce((sum, k) => {
      const e = view.index.entries[k]!;
      return e.type === 'file' ? sum + e.size : sum;
    }, 0);
    const tar = await this.#guard(found, readIndexedTar(found.source, view.index, chosen));
    return { input: tar.pipe(createGzip({ level: 1 })), totalBytes };
  }

  /**
   * A disagreement between index and archive fails the read and gets the index rebuilt. The first
   * chunk is read before anything is answered, so a wrong first header is a clean 409 (and a
   * restore is refused before it starts) rather than a response cut short.
   */
  async #guard(found: LocatedArchive, gen: AsyncGenerator<Buffer>): Promise<Readable> {
    const indexes = this.deps.indexes;
    const fail = (err: unknown): never => {
      if (err instanceof IndexMismatchError) indexes.markForRebuild(found);
      throw err;
    };
    const first = await gen.next().catch(fail);
    async function* guarded(): AsyncGenerator<Buffer> {
      if (first.done) return;
      yield first.value;
      try {
        yield* gen;
      } catch (err) {
        fail(err);
      }
    }
    return Readable.from(guarded(), { objectMode: false });
  }
}
