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
import { LruMap } from '../../core/lru-map.ts';

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
  readonly #pages: LruMap<string, RenderedPage>;

  /** `capacity`: pages kept, least recently used dropped (BACKUP_LIST_CACHE_ENTRIES; ~14 KB each for 10 backups). */
  constructor(capacity: number) {
    this.#pages = new LruMap(capacity);
  }

  /** The page when it was rendered at exactly `version`. */
  get(serverUuid: string, page: number, perPage: number, version: number): RenderedPage | undefined {
    const hit = this.#pages.get(`${serverUuid}:${page}:${perPage}`);
    return hit?.version === version ? hit : undefined;
  }

  set(serverUuid: string, page: number, perPage: number, rendered: RenderedPage): void {
    const key = `${serverUuid}:${page}:${perPage}`;
    // A slower request that read an older version must not replace a newer page.
    if ((this.#pages.peek(key)?.version ?? -1) > rendered.version) return;
    this.#pages.set(key, rendered);
  }

  get size(): number {
    return this.#pages.size;
  }
}
