/**
 * Rendered pages of the client API's backup list, kept per server and page while the server's
 * backup-list version (migration 0014: bumped by triggers in the same transaction as every change
 * to its backups, their copies or a destination) is the one the page was read at. The version
 * comes with the server row every request reads anyway, so a hit costs no query and no
 * serialization, and a page is never served after a change committed anywhere (any panel, the
 * CLI, a daemon report): the next request reads the new version and misses.
 *
 * Measured (docs/benchmarks.md, the load section): the page and totals queries, mapping and
 * serializing 10 backups were ~600 µs of the route's ~1,300 µs of CPU on SQLite.
 */

/** The page's `data` array as JSON, and the totals its meta shows. */
export interface RenderedPage {
  version: number;
  dataJson: string;
  count: number;
  total: number;
  backupCount: number;
  backupBytes: number;
  /** The whole answer for one request path (its links name the path), once asked for: sent as is. */
  body?: { path: string; bytes: Buffer };
}

export class BackupListCache {
  readonly #pages = new Map<string, RenderedPage>();

  /** `capacity`: pages kept, least recently used dropped (BACKUP_LIST_CACHE_ENTRIES; ~14 KB each for 10 backups). */
  constructor(private readonly capacity: number) {}

  /** The page when it was rendered at exactly `version`. */
  get(serverUuid: string, page: number, perPage: number, version: number): RenderedPage | undefined {
    const key = `${serverUuid}:${page}:${perPage}`;
    const hit = this.#pages.get(key);
    if (!hit || hit.version !== version) return undefined;
    this.#pages.delete(key);
    this.#pages.set(key, hit);
    return hit;
  }

  set(serverUuid: string, page: number, perPage: number, rendered: RenderedPage): void {
    if (this.capacity === 0) return;
    const key = `${serverUuid}:${page}:${perPage}`;
    const old = this.#pages.get(key);
    // A slower request that read an older version must not replace a newer page.
    if (old && old.version > rendered.version) return;
    this.#pages.delete(key);
    this.#pages.set(key, rendered);
    if (this.#pages.size > this.capacity) this.#pages.delete(this.#pages.keys().next().value!);
  }

  get size(): number {
    return this.#pages.size;
  }
}
