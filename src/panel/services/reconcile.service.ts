/**
 * One reconciliation mechanism (issue 12). The panel writes its intent before it acts:
 * - a backup being created is a row with `completed_at` null (inserted before the daemon is called);
 * - a backup being deleted is a row with `deleted_at` set and `purged_at` null (set before the
 *   archive is removed, `purged_at` once it is gone);
 * - a restore is the server's `restoring_backup` status (set before the daemon is called).
 * A pass over one node compares these with what the node's daemon holds (its inventory) and
 * settles every intent older than the grace: unknown in-progress backups fail with a reason,
 * interrupted deletes finish, archives the panel deleted or never had are removed, restores the
 * daemon is not running release the server. An archive of a live backup is never touched.
 *
 * Every change is a conditional write (the row must still be as read), so two panel processes
 * on one database cannot both act; the node lease (ReconcileLeasesRepository) keeps them from
 * even trying. A daemon without the inventory route (upstream Wings) gets only what needs no
 * inventory (finishing deletes); the prune age covers the rest, as before.
 */
import { errorMessage } from '../../core/app-error.ts';
import type { DaemonInventory } from '../../wire/daemon-api.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import type { BackupsService } from './backups.service.ts';
import { nodeConnection, type ServiceDeps } from './deps.ts';

export const ReconcileReasons = {
  unknownBackup: 'interrupted: the daemon has no record of this backup',
  unknownRestore: 'interrupted: the daemon is not running this restore',
} as const;

export interface NodeReconcileResult {
  node: string;
  /** false: the daemon could not be reached; null: it has no inventory route (upstream Wings). */
  inventory: boolean | null;
  failedBackups: number;
  finishedDeletes: number;
  removedArchives: number;
  releasedRestores: number;
}

export class ReconcileService {
  constructor(private readonly d: ServiceDeps, private readonly backups: BackupsService) {}

  async reconcileNode(node: NodeRow, now: Date = this.d.clock()): Promise<NodeReconcileResult> {
    const result: NodeReconcileResult = { node: node.uuid, inventory: false, failedBackups: 0, finishedDeletes: 0, removedArchives: 0, releasedRestores: 0 };
    const graceMs = this.d.config.reconcileGraceSeconds * 1000;
    const cutoff = new Date(now.getTime() - graceMs).toISOString();
    const servers = await this.d.repos.servers.allOnNode(node.id);
    const byId = new Map(servers.map((s) => [s.id, s]));
    const serverIds = servers.map((s) => s.id);
    const log = this.d.logger.child({ part: 'reconcile', node: node.uuid });

    let inventory: DaemonInventory | null = null;
    let reachable = true;
    try {
      inventory = await this.d.daemon.inventory(nodeConnection(node));
      result.inventory = inventory === null ? null : true;
    } catch (err) {
      reachable = false;
      log.info({ err: errorMessage(err) }, 'daemon unreachable; only S3 deletes are finished this pass');
    }

    // Interrupted deletes: what needs only the storage (S3) finishes even when the node is away.
    for (const row of await this.d.repos.backups.findUnpurged(serverIds, cutoff)) {
      const server = byId.get(row.server_id);
      if (!server || (row.disk !== 's3' && !reachable)) continue;
      try {
        await this.backups.removeArchive(row, server, node);
        if (await this.d.repos.backups.markPurged(row.id, now.toISOString())) {
          result.finishedDeletes++;
          log.warn({ backup_uuid: row.uuid, disk: row.disk }, 'finished an interrupted backup deletion');
        }
      } catch (err) {
        log.warn({ backup_uuid: row.uuid, err: errorMessage(err) }, 'could not finish an interrupted deletion; next pass retries');
      }
    }
    if (!inventory) return result;

    const known = new Set<string>([...inventory.jobs.map((j) => j.backup_uuid), ...inventory.archives.map((a) => a.uuid)]);
    for (const row of await this.d.repos.backups.findInProgressForServers(serverIds, cutoff)) {
      if (known.has(row.uuid)) continue;
      if (await this.backups.failUnfinished(row, ReconcileReasons.unknownBackup, now)) {
        result.failedBackups++;
        log.warn({ backup_uuid: row.uuid }, 'backup in progress unknown to the daemon marked failed');
      }
    }

    result.removedArchives = await this.#removeOrphans(node, inventory, cutoff, now, log);
    result.releasedRestores = await this.#releaseRestores(servers, inventory, cutoff, now, log);
    return result;
  }

  /** Archives whose backup the panel deleted (or never had), older than the grace. */
  async #removeOrphans(node: NodeRow, inventory: DaemonInventory, cutoff: string, now: Date, log: ServiceDeps['logger']): Promise<number> {
    const rows = new Map((await this.d.repos.backups.findAnyByUuids(inventory.archives.map((a) => a.uuid))).map((r) => [r.uuid, r] as const));
    const running = new Set(inventory.jobs.filter((j) => j.kind === 'backup' && j.state === 'running').map((j) => j.backup_uuid));
    const graceSeconds = this.d.config.reconcileGraceSeconds;
    let removed = 0;
    for (const a of inventory.archives) {
      const row: BackupRow | undefined = rows.get(a.uuid);
      if (row && row.deleted_at === null) continue; // the panel lists it: never touched
      if (running.has(a.uuid)) continue;
      // Grace by the panel's clock for a deletion it recorded, by the daemon's for a file it never knew.
      if (row ? row.deleted_at! > cutoff : a.age_seconds < graceSeconds) continue;
      try {
        await this.d.daemon.removeArchive(nodeConnection(node), a.uuid);
      } catch (err) {
        log.warn({ backup_uuid: a.uuid, err: errorMessage(err) }, 'could not remove an orphaned archive; next pass retries');
        continue;
      }
      if (row) await this.d.repos.backups.markPurged(row.id, now.toISOString());
      removed++;
      log.warn({ backup_uuid: a.uuid, server_uuid: a.server_uuid, bytes: a.size, known_to_panel: row !== undefined }, 'removed an archive with no live backup on the panel');
    }
    return removed;
  }

  /** Servers restoring for longer than the grace whose daemon neither runs nor reports that restore. */
  async #releaseRestores(servers: ServerRow[], inventory: DaemonInventory, cutoff: string, now: Date, log: ServiceDeps['logger']): Promise<number> {
    const restoring = servers.filter((s) => s.status === 'restoring_backup' && s.updated_at <= cutoff);
    if (restoring.length === 0) return 0;
    const restores = inventory.jobs.filter((j) => j.kind === 'restore');
    const busy = new Set(restores.map((j) => j.server_uuid).filter((u): u is string => u !== null));
    // Queued reports name the backup only: find whose server it is.
    const pendingBackups = restores.filter((j) => j.server_uuid === null).map((j) => j.backup_uuid);
    for (const row of await this.d.repos.backups.findAnyByUuids(pendingBackups)) {
      const s = servers.find((x) => x.id === row.server_id);
      if (s) busy.add(s.uuid);
    }
    let released = 0;
    for (const s of restoring) {
      if (busy.has(s.uuid)) continue;
      if (await this.backups.releaseRestore(s, ReconcileReasons.unknownRestore, now)) {
        released++;
        log.warn({ server_uuid: s.uuid }, 'released a server from a restore its daemon is not running');
      }
    }
    return released;
  }
}
