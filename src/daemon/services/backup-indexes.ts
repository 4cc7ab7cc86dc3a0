/**
 * Backup indexes, for local archives (`<uuid>.idx` beside `<uuid>.tar.gz`) and S3 ones (the
 * `<server>/<uuid>.idx` object, through URLs the panel presigned): loaded and checked on use, never
 * trusted when damaged, and built by one streaming pass for archives without one (Wings, GNU tar,
 * older backwing). A build runs in the background; callers get 'building' until it is done, and
 * the built index is kept.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import { buildIndex, decodeIndex, fileSource, IndexCorruptError, IndexView, type ArchiveSource } from '../../archive/index.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { daemonErrors } from '../errors.ts';
import { indexPathOf, type BackupStore, type FoundBackup } from './backup-store.ts';
import { putPart } from './part-upload.ts';
import { guardedGet, type HostAllowlist } from './ssrf-guard.ts';

/** An archive wherever it is, with its index beside it. */
export interface LocatedArchive {
  /** Cache key: the same archive gives the same key. */
  key: string;
  source: ArchiveSource;
  /** Changes whenever the archive or its index is replaced (null: no index stored). */
  version(): Promise<{ archiveSize: number | null; stamp: string } | null>;
  readIndex(): Promise<Buffer>;
  /** Keeps a built index; false when it cannot be kept (it is then held in memory only). */
  writeIndex(index: Buffer): Promise<boolean>;
  /** The archive's size, for a build. */
  size(): Promise<number>;
}

export function localArchive(found: FoundBackup, store: BackupStore): LocatedArchive {
  const idx = indexPathOf(found.path);
  return {
    key: found.path,
    source: fileSource(found.path),
    async version() {
      const [a, i] = await Promise.all([stat(found.path), stat(idx).catch(() => null)]);
      return i ? { archiveSize: a.size, stamp: `${a.mtimeMs}:${i.mtimeMs}:${i.size}` } : null;
    },
    readIndex: () => readFile(idx),
    writeIndex: async (index) => {
      await store.writeIndex(found.path, index);
      return true;
    },
    size: async () => (await stat(found.path)).size,
  };
}

/** Where an S3 backup's archive and index are, as the panel presigned them. */
export interface S3Urls {
  archive: string;
  index: string;
  /** A presigned PUT for keeping a built index (absent: it is kept in memory only). */
  indexPut?: string;
}

/** Reads ranges of an object by presigned GET with `Range` (through the same SSRF guard as restores). */
export function httpSource(url: string, allowlist: HostAllowlist, counter: { bytes: number } = { bytes: 0 }): ArchiveSource {
  return {
    async open(start, end) {
      const res = await guardedGet(url, { allowlist, range: `bytes=${start}-${end === undefined ? '' : end - 1}` });
      const whole = start === 0 && res.status === 200;
      if (res.status !== 206 && !whole) {
        res.body.destroy();
        throw daemonErrors.downloadSource(`The backup link answered HTTP ${res.status} to a range request.`);
      }
      res.body.on('data', (b: Buffer) => (counter.bytes += b.length));
      return res.body;
    },
  };
}

async function fetchAll(url: string, allowlist: HostAllowlist): Promise<Buffer | null> {
  const res = await guardedGet(url, { allowlist });
  if (res.status === 404 || res.status === 403) {
    res.body.resume();
    return null;
  }
  if (res.status !== 200) {
    res.body.resume();
    throw daemonErrors.downloadSource(`The backup index link answered HTTP ${res.status}.`);
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const b of res.body) {
    n += (b as Buffer).length;
    if (n > 256 << 20) throw new IndexCorruptError('it is larger than 256 MiB');
    parts.push(b as Buffer);
  }
  return Buffer.concat(parts);
}

export function s3Archive(backupUuid: string, urls: S3Urls, allowlist: HostAllowlist, spoolDir: string): LocatedArchive {
  let fetched: Buffer | null | undefined;
  const index = async () => (fetched === undefined ? (fetched = await fetchAll(urls.index, allowlist)) : fetched);
  return {
    key: `s3:${backupUuid}`,
    source: httpSource(urls.archive, allowlist),
    // S3 objects are written once: an index that is there now stays the same.
    async version() {
      const ix = await index();
      return ix ? { archiveSize: null, stamp: 'object' } : null;
    },
    readIndex: async () => (await index())!,
    async writeIndex(ix) {
      if (!urls.indexPut) return false;
      const spool = join(spoolDir, `${backupUuid}.idx.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(spool, ix, { mode: 0o600 });
        await putPart(urls.indexPut, { file: spool, start: 0, length: ix.length }, { signal: AbortSignal.timeout(120_000) });
        return true;
      } finally {
        await rm(spool, { force: true });
      }
    },
    async size() {
      const res = await guardedGet(urls.archive, { allowlist, range: 'bytes=0-0' });
      res.body.resume();
      const total = /\/(\d+)$/.exec(res.contentRange ?? '')?.[1];
      return total ? Number(total) : 0;
    },
  };
}

interface Cached {
  view: IndexView;
  stamp: string;
}

const CACHE_MAX = 8;

export class BackupIndexes {
  readonly #cache = new Map<string, Cached>();
  readonly #building = new Map<string, Promise<void>>();
  readonly #failed = new Map<string, string>();
  /** Built indexes that could not be stored (an S3 backup without a PUT link). */
  readonly #memory = new Map<string, IndexView>();

  constructor(private readonly deps: { logger: Logger }) {}

  /** The index of `a`, or 'building' while one is being made from the archive. */
  async load(a: LocatedArchive): Promise<IndexView | { building: true; error?: string }> {
    if (this.#building.has(a.key)) return { building: true };
    const version = await a.version();
    const hit = this.#cache.get(a.key);
    if (hit && version && hit.stamp === version.stamp) return hit.view;
    if (version) {
      try {
        const ix = decodeIndex(await a.readIndex());
        if (version.archiveSize !== null && ix.archiveSize !== version.archiveSize) {
          throw new IndexCorruptError(`it describes an archive of ${ix.archiveSize} bytes, this one has ${version.archiveSize}`);
        }
        const view = new IndexView(ix);
        this.#remember(a.key, { view, stamp: version.stamp });
        return view;
      } catch (err) {
        if (!(err instanceof IndexCorruptError)) throw err;
        this.deps.logger.warn({ archive: a.key, err: err.message }, 'backup index is damaged; rebuilding it from the archive');
      }
    }
    const kept = this.#memory.get(a.key);
    if (kept) return kept;
    const failed = this.#failed.get(a.key);
    this.#failed.delete(a.key);
    if (failed) return { building: true, error: failed };
    this.#startBuild(a);
    return { building: true };
  }

  /** After a read found the index and archive disagreeing: forget it and build a new one. */
  markForRebuild(a: LocatedArchive): void {
    this.#cache.delete(a.key);
    this.#memory.delete(a.key);
    this.#startBuild(a);
  }

  #startBuild(a: LocatedArchive): void {
    if (this.#building.has(a.key)) return;
    const run = (async () => {
      try {
        const index = await buildIndex(a.source, await a.size());
        const stored = await a.writeIndex(index).catch((err: unknown) => {
          this.deps.logger.warn({ archive: a.key, err: errorMessage(err) }, 'cannot store the built backup index');
          return false;
        });
        if (!stored) {
          this.#memory.set(a.key, new IndexView(decodeIndex(index)));
          while (this.#memory.size > CACHE_MAX) this.#memory.delete(this.#memory.keys().next().value!);
        }
        this.deps.logger.info({ archive: a.key, bytes: index.length, stored }, 'backup index built');
      } catch (err) {
        this.#failed.set(a.key, errorMessage(err));
        this.deps.logger.warn({ archive: a.key, err: errorMessage(err) }, 'cannot build a backup index');
      } finally {
        this.#building.delete(a.key);
      }
    })();
    this.#building.set(a.key, run);
  }

  #remember(key: string, c: Cached): void {
    this.#cache.delete(key);
    this.#cache.set(key, c);
    while (this.#cache.size > CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
