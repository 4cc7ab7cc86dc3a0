/**
 * Backup indexes of local archives (`<uuid>.idx` beside `<uuid>.tar.gz`): loaded and checked on
 * use, never trusted when damaged, and built by one streaming pass for archives without one
 * (Wings, GNU tar, older backwing). A build runs in the background; callers get 'building' until
 * it is done, and the built index is kept.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import { buildIndex, decodeIndex, fileSource, IndexCorruptError, IndexView } from '../../archive/index.ts';
import { indexPathOf, type BackupStore, type FoundBackup } from './backup-store.ts';

interface Cached {
  view: IndexView;
  archiveMtime: number;
  indexMtime: number;
}

const CACHE_MAX = 8;

export class BackupIndexes {
  readonly #cache = new Map<string, Cached>();
  readonly #building = new Map<string, Promise<void>>();
  readonly #failed = new Map<string, string>();

  constructor(private readonly deps: { store: BackupStore; logger: Logger }) {}

  /** The index of `found`, or 'building' while one is being made from the archive. */
  async load(found: FoundBackup): Promise<IndexView | { building: true; error?: string }> {
    const archive = found.path;
    if (this.#building.has(archive)) return { building: true };
    const idxPath = indexPathOf(archive);
    const [aStat, iStat] = await Promise.all([stat(archive), stat(idxPath).catch(() => null)]);
    const hit = this.#cache.get(archive);
    if (hit && iStat && hit.archiveMtime === aStat.mtimeMs && hit.indexMtime === iStat.mtimeMs) return hit.view;
    if (iStat) {
      try {
        const ix = decodeIndex(await readFile(idxPath));
        if (ix.archiveSize !== aStat.size) throw new IndexCorruptError(`it describes an archive of ${ix.archiveSize} bytes, this one has ${aStat.size}`);
        const view = new IndexView(ix);
        this.#remember(archive, { view, archiveMtime: aStat.mtimeMs, indexMtime: iStat.mtimeMs });
        return view;
      } catch (err) {
        if (!(err instanceof IndexCorruptError)) throw err;
        this.deps.logger.warn({ archive, err: err.message }, 'backup index is damaged; rebuilding it from the archive');
      }
    }
    const failed = this.#failed.get(archive);
    this.#failed.delete(archive);
    if (failed) return { building: true, error: failed };
    this.#startBuild(archive, aStat.size);
    return { building: true };
  }

  /** After a read found the index and archive disagreeing: forget it and build a new one. */
  markForRebuild(found: FoundBackup): void {
    this.#cache.delete(found.path);
    if (this.#building.has(found.path)) return;
    void stat(found.path).then((st) => this.#startBuild(found.path, st.size), () => undefined);
  }

  #startBuild(archive: string, size: number): void {
    if (this.#building.has(archive)) return;
    const run = (async () => {
      try {
        const index = await buildIndex(fileSource(archive), size);
        await this.deps.store.writeIndex(archive, index);
        this.deps.logger.info({ archive, bytes: index.length }, 'backup index built');
      } catch (err) {
        this.#failed.set(archive, errorMessage(err));
        this.deps.logger.warn({ archive, err: errorMessage(err) }, 'cannot build a backup index');
      } finally {
        this.#building.delete(archive);
      }
    })();
    this.#building.set(archive, run);
  }

  /** Resolves when no build is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#building.size > 0) await Promise.all([...this.#building.values()]);
  }

  #remember(key: string, c: Cached): void {
    this.#cache.delete(key);
    this.#cache.set(key, c);
    while (this.#cache.size > CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
