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

/** Snapshots whose listing is kept (a listing of 100k entries is a few tens of MB). */
const KEEP = 8;

export interface ResticSnapshotView {
  snapshotId: string;
  view: IndexView;
}

export class ResticBrowse {
  /** By repository and snapshot id; least recently used first. */
  readonly #views = new Map<string, Promise<IndexView>>();

  constructor(readonly restic: ResticService) {}

  /** The backup's snapshot (only if it is `serverUuid`'s: 404 otherwise) and its listing. */
  async open(repo: ResticRepo, serverUuid: string, backupUuid: string, signal?: AbortSignal): Promise<ResticSnapshotView> {
    const found = await this.restic.findSnapshot(repo, serverUuid, backupUuid, signal);
    if (!found) throw daemonErrors.backupNotFound();
    const key = `${repo.repository}\0${found.id}`;
    let view = this.#views.get(key);
    if (view) this.#views.delete(key);
    else {
      view = this.restic.list(repo, found.id, signal).then(viewOfResticNodes);
      // A failed listing (a lock, a network error) is not kept.
      view.catch(() => this.#views.get(key) === view && this.#views.delete(key));
    }
    this.#views.set(key, view);
    while (this.#views.size > KEEP) this.#views.delete(this.#views.keys().next().value!);
    return { snapshotId: found.id, view: await view };
  }
}
