/**
 * Browsing a restic backup through the same routes as a tar.gz one. The listing is answered from
 * `restic ls` rather than from a BWIX index built after the backup and stored, because:
 * - a snapshot never changes, so its listing can be kept in memory by snapshot id and is never stale;
 * - there is no per-backup place to keep an index that every node can read: the repository may be
 *   an S3 prefix shared by nodes, and a node that restores a dead node's backup has only the
 *   repository (anything kept on the dead node's disk is gone);
 * - `restic ls` reads only tree blobs, which restic keeps in its local cache: a listing of a
 *   world with tens of thousands of files takes a second or so, once, and nothing on the backup's
 *   hot path.
 */
import type { IndexView } from '../../archive/index.ts';
import { daemonErrors } from '../errors.ts';
import type { ResticRepo } from './restic-cli.ts';
import type { ResticService } from './restic-service.ts';
import { viewOfResticNodes } from './restic-tree.ts';

/** Snapshots whose listing is kept. */
const KEEP = 8;
/**
 * And entries in all of them together: a listing of 100,000 entries holds a few tens of MB, so eight
 * listings of a huge world would hold hundreds. The one just asked for is always kept, whatever its size.
 */
const KEEP_ENTRIES = 300_000;

export interface ResticSnapshotView {
  snapshotId: string;
  view: IndexView;
}

export class ResticBrowse {
  /** By repository and snapshot id; least recently used first. */
  readonly #views = new Map<string, Promise<IndexView>>();
  /** Entries of each listing that has arrived, by the same key. */
  readonly #sizes = new Map<string, number>();

  constructor(
    readonly restic: ResticService,
    readonly limits: { keep: number; keepEntries: number } = { keep: KEEP, keepEntries: KEEP_ENTRIES },
  ) {}

  /** Listings held now, and their entries (for tests and metrics). */
  get held(): { listings: number; entries: number } {
    let entries = 0;
    for (const n of this.#sizes.values()) entries += n;
    return { listings: this.#views.size, entries };
  }

  /** The backup's snapshot (only if it is `serverUuid`'s: 404 otherwise) and its listing. */
  async open(repo: ResticRepo, serverUuid: string, backupUuid: string, signal?: AbortSignal): Promise<ResticSnapshotView> {
    const found = await this.restic.findSnapshot(repo, serverUuid, backupUuid, signal);
    if (!found) throw daemonErrors.backupNotFound();
    const key = `${repo.repository}\0${found.id}`;
    let view = this.#views.get(key);
    if (view) this.#views.delete(key);
    else {
      const listing = this.restic.list(repo, found.id, signal).then(viewOfResticNodes);
      view = listing;
      listing.then(
        (v) => {
          if (this.#views.get(key) !== listing) return;
          this.#sizes.set(key, v.index.entries.length);
          this.#evict(key);
        },
        // A failed listing (a lock, a network error) is not kept.
        () => this.#views.get(key) === listing && this.#views.delete(key),
      );
    }
    this.#views.set(key, view);
    this.#evict(key);
    return { snapshotId: found.id, view: await view };
  }

  /** Least recently used first, until both bounds hold; `keep` itself stays. */
  #evict(keep: string): void {
    for (const key of this.#views.keys()) {
      if (this.#views.size <= this.limits.keep && this.held.entries <= this.limits.keepEntries) return;
      if (key === keep) continue;
      this.#views.delete(key);
      this.#sizes.delete(key);
    }
  }
}
