import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/app-error.ts';
import { crashPoint } from '../../core/crash-points.ts';
import { deliveryUncertain, isDaemonConnectionError, type BackupS3Urls } from '../daemon-client/daemon-client.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import type { DaemonIgnoreFile } from '../../wire/daemon-api.ts';
import { PanelErrors } from '../errors.ts';
import type { Repos } from '../repositories/index.ts';
import type { PlacedPage } from '../repositories/backups.repository.ts';
import { unpinnedDestination } from './destination-stores.ts';
import { signDownloadToken } from '../tokens.ts';
import type { ActivityService } from './activity.service.ts';
import { isSuccessful, splitIgnored, type BackupPlacement } from './backup-view.ts';
import { BackupCopiesService } from './backup-copies.service.ts';
import { isoNow, nodeConnection, type Actor, type ServiceDeps } from './deps.ts';
import { backupFileName } from '../../core/file-name.ts';
import { bytesLimitOf } from './servers.service.ts';
import { quotaRefusal } from './storage-quota.ts';
import { ResticService } from './restic.service.ts';
import { sealResticClaim } from '../../core/restic-claim.ts';

/** A server with its node, as the HTTP layer resolved it (access and state already checked). */
export interface BackupTarget {
  server: ServerRow;
  node: NodeRow;
}

export interface CreateBackupInput {
  name?: string | null;
  /** Newline-separated patterns, as the client API takes them. */
  ignored?: string | null;
  isLocked?: boolean;
}

/** Seeds say a download link lives 15 minutes (upstream: 5 for S3, 15 for the daemon JWT). */
export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 50;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function defaultBackupName(d: Date): string {
  return `Backup at ${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export { splitIgnored } from './backup-view.ts';

export class BackupsService {
  readonly #restic: ResticService;
  constructor(private readonly d: ServiceDeps, private readonly activity: ActivityService, private readonly copies = new BackupCopiesService(d)) {
    this.#restic = new ResticService(d);
  }

  /** Each backup's destination name and verified copy count (client API `destination`, `copies`). */
  async placements(rows: BackupRow[]): Promise<Map<number, BackupPlacement>> {
    const destinations = await this.d.repos.destinations.list();
    const names = new Map(destinations.map((d) => [d.id, d.name]));
    const copies = await this.copies.doneCopies(rows.map((b) => b.id));
    const out = new Map<number, BackupPlacement>();
    for (const b of rows) {
      // Unpinned rows (from before destinations): DestinationStores.ofBackup's rule, from the list
      // already read rather than a query per row.
      const dest = b.destination_id !== null ? names.get(b.destination_id) ?? null : unpinnedDestination(destinations, b)?.name ?? null;
      out.set(b.id, { destination: dest, copies: copies.get(b.id)?.length ?? 0 });
    }
    return out;
  }

  /** A page of a server's live backups, each with its placement, and the server's totals. */
  async list(server: ServerRow, page: number, perPage: number): Promise<PlacedPage> {
    return this.d.repos.backups.pageForServer(server.id, { page, perPage });
  }

  /**
   * Throttle, then limit, then insert — one transaction so two concurrent requests cannot both take
   * the last slot — then the daemon call outside it. A daemon refusal removes the row again.
   * `actor` null = an automatic creation (schedules): no activity entry, as upstream.
   */
  async create(target: BackupTarget, input: CreateBackupInput, actor: Actor | null): Promise<BackupRow> {
    return (await this.createPlaced(target, input, actor)).row;
  }

  /** As create, with where the new backup goes (its destination, no copies yet) for the client API's answer. */
  async createPlaced(target: BackupTarget, input: CreateBackupInput, actor: Actor | null): Promise<{ row: BackupRow; placement: BackupPlacement }> {
    const { server, node } = target;
    const ignored = splitIgnored(input.ignored);
    const now = this.d.clock();
    const at = now.toISOString();
    const name = input.name?.trim() ? input.name.trim() : defaultBackupName(now);
    // backwing: the effective destination decides (docs/restic.md): a restic destination is a
    // snapshot in its repository; a node's own restic setting applies only when neither the server
    // nor the node names a destination (it stands in for the node's assignment).
    const destination = await this.d.stores.forServer(server, node);
    const restic = destination.kind === 'restic' ? this.#restic.openDestination(destination)
      : destination.explicit ? null : await this.#restic.repoFor(node.id);
    const disk = restic ? 'restic' : destination.kind === 's3' ? 's3' : 'wings';
    // A destination whose credentials cannot be opened fails here, before a row exists.
    if (disk === 's3') await this.d.stores.s3(destination);

    const eggDefaults = await this.eggDefaults(server);
    const row = await this.d.tx(async (repos) => {
      await repos.servers.lockForUpdate(server.id);
      await this.checkThrottle(repos, server.id, now);
      const fresh = (await repos.servers.findById(server.id)) ?? server;
      const limit = fresh.backup_limit;
      if (limit <= 0 || (await repos.backups.countNonFailed(server.id)) >= limit) throw PanelErrors.tooManyBackups(limit);
      const quota = bytesLimitOf(fresh);
      const refusal = quota === null ? null : quotaRefusal(quota, await repos.backups.storageUsage(server.id), actor === null);
      if (refusal) throw PanelErrors.overStorageQuota(refusal);
      return repos.backups.insert({ server_id: server.id, uuid: randomUUID(), name, ignored_files: ignored, disk, is_locked: input.isLocked === true, at, automatic: actor === null, ignore_defaults: node.backup_ignore, ignore_egg_defaults: eggDefaults, destination_id: destination.id });
    });

    // Logged before the daemon call: a fast daemon may report completion before the call returns,
    // and the log must still read start → complete.
    const activityId = actor
      ? await this.activity.record({ event: 'server:backup.start', actor, properties: { name: row.name, locked: row.is_locked === 1 }, subjects: this.subjects(row, server) })
      : null;
    await crashPoint('backup.create:before-daemon');
    try {
      // backwing: the owner's save hook; none stored = the node's default (the field is left out).
      const saveHook = await this.d.repos.saveHooks.find(server.id);
      // backwing: the node's default patterns travel on their own, so the daemon merges every source
      // in one place (below .pteroignore and the request's list); absent when the node has none.
      const defaults = { ...(node.backup_ignore ? { ignore_defaults: node.backup_ignore } : {}), ...(eggDefaults ? { ignore_egg_defaults: eggDefaults } : {}) };
      await this.d.daemon.createBackup(nodeConnection(node), server.uuid, { adapter: disk, uuid: row.uuid, ignore: ignored.join('\n'), ...defaults, ...(saveHook ? { save_hook: saveHook } : {}), ...(restic ? { restic } : {}) });
    } catch (err) {
      if (activityId !== null) await this.activity.remove(activityId);
      await this.d.repos.backups.hardDelete(row.id);
      throw err;
    }
    this.d.metrics.backupStarted(disk);
    return { row, placement: { destination: destination.name, copies: 0 } };
  }

  private async checkThrottle(repos: Repos, serverId: number, now: Date): Promise<void> {
    const { limit, periodSeconds } = this.d.config.throttle;
    if (periodSeconds <= 0) return;
    const since = new Date(now.getTime() - periodSeconds * 1000).toISOString();
    const created = await repos.backups.createdSince(serverId, since);
    if (created.length < limit) return;
    // The window frees a slot when the oldest backup that keeps it full drops out of it.
    const blocking = created[created.length - limit];
    const freesAt = blocking ? new Date(blocking).getTime() + periodSeconds * 1000 : now.getTime() + periodSeconds * 1000;
    const retryAfter = Math.max(1, Math.ceil((freesAt - now.getTime()) / 1000));
    throw PanelErrors.throttled(limit, periodSeconds, retryAfter);
  }

  async toggleLock(target: BackupTarget, backup: BackupRow, actor: Actor): Promise<BackupRow> {
    const locked = backup.is_locked !== 1;
    if (!(await this.d.repos.backups.setLockIfLive(backup.id, locked, isoNow(this.d.clock)))) throw PanelErrors.resourceNotFound();
    await this.activity.log({ event: locked ? 'server:backup.lock' : 'server:backup.unlock', actor, properties: { name: backup.name }, subjects: this.subjects(backup, target.server) });
    return (await this.d.repos.backups.findById(backup.id))!;
  }

  /**
   * A link to the archive: the daemon's JWT URL (wings) or a presigned GET (s3). Only for a
   * completed, successful backup — upstream mints links for unfinished and failed ones too.
   */
  async downloadUrl(target: BackupTarget, backup: BackupRow, actor: Actor): Promise<string> {
    if (backup.disk !== 'wings' && backup.disk !== 's3' && backup.disk !== 'restic') throw PanelErrors.unknownDisk();
    if (!isSuccessful(backup)) throw PanelErrors.backupNotDownloadable();
    const url = await this.archiveUrl(target, backup, actor);
    await this.activity.log({ event: 'server:backup.download', actor, properties: { name: backup.name }, subjects: this.subjects(backup, target.server) });
    return url;
  }

  /** backwing: presigned URLs of an S3 backup's archive and index object, for the daemon to read through the index. */
  async s3Urls(target: BackupTarget, backup: BackupRow): Promise<BackupS3Urls> {
    // The index lives beside the archive in the backup's own destination (copies carry no index).
    const store = await this.d.stores.s3OfBackup(backup);
    const key = store.objectKey(target.server.uuid, backup.uuid);
    const indexKey = store.indexKey(target.server.uuid, backup.uuid);
    return {
      archive: await store.presignedGetUrl(key, DOWNLOAD_URL_TTL_SECONDS),
      index: await store.presignedGetUrl(indexKey, DOWNLOAD_URL_TTL_SECONDS),
      indexPut: await store.presignedPutUrl(indexKey, DOWNLOAD_URL_TTL_SECONDS),
    };
  }

  private async archiveUrl(target: BackupTarget, backup: BackupRow, actor: Actor | null): Promise<string> {
    const store = backup.disk === 's3' ? await this.readableStore(backup, target.server) : backup.disk === 'wings' ? await this.copyOfMissingLocal(target, backup) : null;
    if (store) {
      const key = store.objectKey(target.server.uuid, backup.uuid);
      return store.presignedGetUrl(key, DOWNLOAD_URL_TTL_SECONDS, backupFileName(backup.name, backup.uuid));
    }
    const token = await signDownloadToken(nodeConnection(target.node), {
      serverUuid: target.server.uuid,
      backupUuid: backup.uuid,
      userUuid: actor?.userUuid,
      userId: actor?.userId,
      panelUrl: this.d.config.appUrl,
      // The browser saves it under the backup's name, as the CLI does (an upstream Wings ignores it).
      fileName: backupFileName(backup.name, backup.uuid),
      // restic: the repository travels sealed for this node only (src/core/restic-claim.ts).
      ...(backup.disk === 'restic' ? { restic: await this.resticClaim(target.node, backup) } : {}),
    });
    return `${target.node.url.replace(/\/+$/, '')}/download/backup?token=${encodeURIComponent(token)}`;
  }

  /** The backup's restic repository, sealed for that node only: a link's claim, a browse call's header. */
  async resticClaim(node: NodeRow, backup: Pick<BackupRow, 'destination_id'>): Promise<string> {
    return sealResticClaim(node.daemon_token, await this.#restic.repoForBackup(node.id, backup));
  }

  /**
   * The store to read an S3 backup from: its own destination, or — when that does not answer a
   * HEAD of the archive right now and a verified copy exists — the copy's (3-2-1).
   */
  private async readableStore(backup: BackupRow, server: ServerRow) {
    const own = await this.d.stores.s3OfBackup(backup);
    const fallback = await this.copies.fallback(backup);
    if (!fallback) return own;
    try {
      await own.head(own.objectKey(server.uuid, backup.uuid));
      return own;
    } catch (err) {
      this.d.logger.warn({ backup_uuid: backup.uuid, copy: fallback.name, err: errorMessage(err) }, 'the backup\'s destination is unavailable; using its copy');
      return this.d.stores.s3(fallback);
    }
  }

  /**
   * A local backup with a verified copy whose node no longer holds the archive (or does not
   * answer): the copy's store, read instead. Null when the node has it or there is no copy.
   */
  private async copyOfMissingLocal(target: BackupTarget, backup: BackupRow) {
    const fallback = await this.copies.fallback(backup);
    if (!fallback) return null;
    try {
      if (await this.d.daemon.archiveStat(nodeConnection(target.node), target.server.uuid, backup.uuid)) return null;
      this.d.logger.warn({ backup_uuid: backup.uuid, copy: fallback.name }, 'the node no longer holds the archive; using its copy');
    } catch (err) {
      this.d.logger.warn({ backup_uuid: backup.uuid, copy: fallback.name, err: errorMessage(err) }, 'the node does not answer for the archive; using its copy');
    }
    return this.d.stores.s3(fallback);
  }

  /**
   * Marks the server `restoring_backup` (only if its status is still empty, so two restores cannot
   * race), asks the daemon, and puts the status back if the daemon refuses.
   */
  async restore(target: BackupTarget, backup: BackupRow, truncate: boolean, actor: Actor, selection?: { paths: string[]; keepNewer: boolean }): Promise<void> {
    const { server, node } = target;
    if (server.status !== null) throw PanelErrors.serverStateNotRestorable();
    // Upstream only rejects in-progress backups; a failed archive is no better to restore.
    if (!isSuccessful(backup)) throw PanelErrors.backupNotRestorable();
    // backwing: some paths only; the daemon checks each (422/404) before it answers, and never truncates.
    const s3 = selection && backup.disk === 's3' ? await this.s3Urls(target, backup) : null;
    const only = selection ? { paths: selection.paths, keep_newer: selection.keepNewer, ...(s3 ? { index_url: s3.index, index_put_url: s3.indexPut } : {}) } : {};
    if (selection) truncate = false;
    // A local archive the node lost is restored from its verified copy, as an S3 one (whole only: copies carry no index).
    const fromCopy = backup.disk === 'wings' && !selection ? await this.copyOfMissingLocal(target, backup) : null;
    const adapter = fromCopy ? 's3' : backup.disk;
    const downloadUrl = fromCopy ? await fromCopy.presignedGetUrl(fromCopy.objectKey(server.uuid, backup.uuid), DOWNLOAD_URL_TTL_SECONDS)
      : backup.disk === 's3' ? await this.archiveUrl(target, backup, actor) : '';
    const at = isoNow(this.d.clock);
    if (!(await this.d.repos.servers.transitionStatus(server.id, null, 'restoring_backup', at))) throw PanelErrors.serverStateNotRestorable();
    const activityId = await this.activity.record({ event: 'server:backup.restore', actor, properties: { name: backup.name, truncate, ...(selection ? { paths: selection.paths, keep_newer: selection.keepNewer } : {}) }, subjects: this.subjects(backup, server) });
    await crashPoint('backup.restore:before-daemon');
    try {
      const restic = backup.disk === 'restic' ? { restic: await this.#restic.repoForBackup(node.id, backup) } : {};
      await this.d.daemon.restoreBackup(nodeConnection(node), server.uuid, backup.uuid, { adapter, truncate_directory: truncate, download_url: downloadUrl, ...only, ...restic });
    } catch (err) {
      if (deliveryUncertain(err)) {
        // The daemon may be restoring right now: leaving the server usable would let backups and
        // another restore run over it. Its report, a daemon restart, or the prune age ends this.
        this.d.logger.warn({ server_uuid: server.uuid, backup_uuid: backup.uuid }, 'restore request got no answer; the server stays restoring until the daemon reports');
        throw err;
      }
      await this.activity.remove(activityId);
      await this.d.repos.servers.transitionStatus(server.id, 'restoring_backup', null, isoNow(this.d.clock));
      throw err;
    }
  }

  /**
   * Soft-deletes the row, then deletes the archive (the row comes back if that fails). `actor` null
   * = automatic (rotation, retention): any lock protects the backup then, and the caller logs its
   * own event. The lock rule is enforced again in the claiming UPDATE, so a lock set after `backup`
   * was read is never lost.
   */
  async delete(target: BackupTarget, backup: BackupRow, actor: Actor | null): Promise<void> {
    const automatic = actor === null;
    if (backup.is_locked === 1 && (automatic || isSuccessful(backup))) throw PanelErrors.backupLocked();
    const { server, node } = target;
    if (backup.disk === 's3') await this.d.stores.s3OfBackup(backup);
    if (!(await this.d.repos.backups.claimDeletion(backup.id, isoNow(this.d.clock), automatic))) {
      throw (await this.d.repos.backups.findLiveForServer(server.id, backup.uuid)) ? PanelErrors.backupLocked() : PanelErrors.resourceNotFound();
    }
    // Re-read after the claim: an upload id the daemon obtained since `backup` was read must be aborted too.
    backup = (await this.d.repos.backups.findById(backup.id)) ?? backup;
    await crashPoint('backup.delete:before-remove');
    try {
      await this.removeArchive(backup, server, node);
    } catch (err) {
      await this.d.repos.backups.restoreSoftDeleted(backup.id, isoNow(this.d.clock));
      throw err;
    }
    await crashPoint('backup.delete:before-purged');
    await this.d.repos.backups.markPurged(backup.id, isoNow(this.d.clock));
    if (actor) {
      await this.activity.log({ event: 'server:backup.delete', actor, properties: { name: backup.name, failed: backup.is_successful !== 1 }, subjects: this.subjects(backup, server) });
    }
  }

  /**
   * Stops a running backup (backwing). The daemon removes its temp files and reports it failed
   * ("cancelled"); that report completes the row. A daemon that no longer runs it answers 404: the
   * backup finished meanwhile, which is a 409 here.
   */
  async cancelBackup(target: BackupTarget, backup: BackupRow, actor: Actor): Promise<void> {
    if (backup.completed_at !== null) throw PanelErrors.backupNotRunning();
    const activityId = await this.activity.record({ event: 'server:backup.cancel', actor, properties: { name: backup.name }, subjects: this.subjects(backup, target.server) });
    try {
      await this.d.daemon.cancelBackup(nodeConnection(target.node), target.server.uuid, backup.uuid);
    } catch (err) {
      await this.activity.remove(activityId);
      if (isDaemonConnectionError(err) && err.daemonStatus === 404) throw PanelErrors.backupNotRunning();
      throw err;
    }
  }

  /**
   * Stops the server's running restore (backwing). Files already written stay; the daemon's failed
   * restore report releases the server and says how far it got.
   */
  async cancelRestore(target: BackupTarget, actor: Actor): Promise<void> {
    const { server, node } = target;
    if (server.status !== 'restoring_backup') throw PanelErrors.restoreNotRunning();
    const last = await this.activity.lastRestoreRequest(server.id);
    const activityId = await this.activity.record({
      event: 'server:backup.restore-cancel',
      actor,
      properties: last?.name !== undefined ? { name: last.name } : {},
      subjects: [...(last?.backupId !== undefined ? [{ type: 'backup', id: last.backupId }] : []), { type: 'server', id: server.id }],
    });
    try {
      await this.d.daemon.cancelRestore(nodeConnection(node), server.uuid);
    } catch (err) {
      await this.activity.remove(activityId);
      if (isDaemonConnectionError(err) && err.daemonStatus === 404) throw PanelErrors.restoreNotRunning();
      throw err;
    }
  }

  /**
   * The server's .pteroignore as its node reads it (backwing daemons; Wings has no such route),
   * with the node's default patterns, so the create dialog shows every source (issue 17).
   */
  async ignoreFile(target: BackupTarget): Promise<DaemonIgnoreFile & { node_defaults: string[]; egg_defaults: string[] }> {
    const file = await this.d.daemon.ignoreFile(nodeConnection(target.node), target.server.uuid);
    return { ...file, node_defaults: splitIgnored(target.node.backup_ignore), egg_defaults: splitIgnored(await this.eggDefaults(target.server)) };
  }

  /** The default patterns of the server's game type (issue 17); null when it has no egg or the egg none. */
  private async eggDefaults(server: ServerRow): Promise<string | null> {
    if (server.egg_id === null || server.egg_id === undefined) return null;
    return (await this.d.repos.eggs.findById(server.egg_id))?.backup_ignore ?? null;
  }

  /**
   * Removes a deleted backup's archive wherever it lives; safe to repeat (the reconciler finishes
   * deletes a crash interrupted). S3: the daemon's job is cancelled if it still streams, the
   * multipart upload aborted, the object deleted. Local: the daemon deletes file and sidecar.
   */
  async removeArchive(backup: BackupRow, server: ServerRow, node: NodeRow): Promise<void> {
    if (backup.disk === 's3') {
      const store = await this.d.stores.s3OfBackup(backup);
      const key = store.objectKey(server.uuid, backup.uuid);
      if (backup.completed_at === null) {
        // The daemon is streaming it: stop the job now rather than when its next part fails.
        await this.d.daemon.deleteBackup(nodeConnection(node), server.uuid, backup.uuid).catch((err: unknown) => {
          this.d.logger.info({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'daemon did not cancel the s3 backup job (it may have finished)');
        });
        if (backup.upload_id) {
          await store.abortUpload(key, backup.upload_id).catch((err: unknown) => {
            this.d.logger.warn({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'abort multipart upload failed');
          });
        }
      }
      await store.deleteObject(key);
      // The index object goes with it (deleting a key that is not there succeeds).
      await store.deleteObject(store.indexKey(server.uuid, backup.uuid));
      await this.copies.removeCopies(backup, server);
      return;
    }
    if (backup.disk === 'restic') {
      // `forget` of that snapshot now; its data goes at the next prune (batched, ResticMaintenance).
      await this.d.daemon.deleteBackup(nodeConnection(node), server.uuid, backup.uuid, { adapter: 'restic', restic: await this.#restic.repoForBackup(node.id, backup) });
      // Counted toward the batched prune of the repository it was in: the destination's, else the node's.
      const dest = backup.destination_id === null ? undefined : await this.d.repos.destinations.findById(backup.destination_id);
      if (backup.is_successful !== 1) return;
      if (dest?.kind === 'restic') await this.#restic.destinationForgotten(dest, node.id);
      else await this.d.repos.nodeRestic.addForgotten(node.id, 1, isoNow(this.d.clock));
      return;
    }
    await this.d.daemon.deleteBackup(nodeConnection(node), server.uuid, backup.uuid).catch((err: unknown) => {
      // The daemon no longer having it is what we wanted.
      if (!(isDaemonConnectionError(err) && err.daemonStatus === 404)) throw err;
    });
    await this.copies.removeCopies(backup, server);
  }

  /** Marks unfinished backups older than the prune age failed. Returns how many. */
  async pruneStale(now: Date = this.d.clock()): Promise<number> {
    const ageMinutes = this.d.config.pruneAgeMinutes;
    if (ageMinutes <= 0) return 0;
    const cutoff = new Date(now.getTime() - ageMinutes * 60_000).toISOString();
    const stale = await this.d.repos.backups.findStale(cutoff);
    if (stale.length === 0) return 0;
    let marked = 0;
    for (const b of stale) {
      // One row at a time: with several panels on one database only the one that flips the row logs it.
      if (await this.failUnfinished(b, `not completed within ${ageMinutes} minutes`, now)) marked++;
    }
    this.d.logger.info({ count: marked, age_minutes: ageMinutes }, 'marked stale backups as failed');
    return marked;
  }

  /**
   * Marks one in-progress backup failed with `reason`, aborts its S3 upload, logs `server:backup.fail`.
   * False when it completed (or was failed by another panel process) meanwhile.
   */
  async failUnfinished(b: BackupRow, reason: string, now: Date = this.d.clock()): Promise<boolean> {
    if ((await this.d.repos.backups.markFailed([b.id], now.toISOString(), reason)) === 0) return false;
    const server = await this.d.repos.servers.findById(b.server_id);
    if (b.disk === 's3' && b.upload_id && server) {
      await this.d.stores.s3OfBackup(b).then((store) => store.abortUpload(store.objectKey(server.uuid, b.uuid), b.upload_id!)).catch((err: unknown) => {
        this.d.logger.warn({ backup_uuid: b.uuid, err: errorMessage(err) }, 'abort multipart upload of a failed backup failed');
      });
    }
    this.d.metrics.backupFinished({ driver: b.disk, successful: false, bytes: 0, durationSeconds: null });
    await this.activity.log({ event: 'server:backup.fail', actor: null, properties: { name: b.name, reason }, subjects: [{ type: 'backup', id: b.id }, { type: 'server', id: b.server_id }] });
    return true;
  }

  /**
   * Releases one server from `restoring_backup` if nothing changed it since `s` was read, logging the
   * restore as failed with `reason`. False when a report, a reset or another panel got there first.
   */
  async releaseRestore(s: ServerRow, reason: string, now: Date = this.d.clock()): Promise<boolean> {
    const won = await this.d.tx(async (repos) => {
      // Guarded on updated_at: a restore that just finished and a new one that just started both win.
      if (!(await repos.servers.transitionStatusIfUnchanged(s.id, 'restoring_backup', null, s.updated_at, now.toISOString()))) return false;
      await this.activity.logRestoreAbandoned(s.id, reason, repos);
      return true;
    });
    if (won) this.d.metrics.restoreFinished(false);
    return won;
  }

  /**
   * A server left in `restoring_backup` for longer than the prune age will not hear from its daemon
   * any more (crash without restart, lost report): every client route would answer 409 forever.
   * It is released and the restore logged as failed. Returns how many.
   */
  async releaseStaleRestores(now: Date = this.d.clock()): Promise<number> {
    const ageMinutes = this.d.config.pruneAgeMinutes;
    if (ageMinutes <= 0) return 0;
    const cutoff = new Date(now.getTime() - ageMinutes * 60_000).toISOString();
    let released = 0;
    for (const s of await this.d.repos.servers.findInStatusSince('restoring_backup', cutoff)) {
      if (await this.releaseRestore(s, `no restore report within ${ageMinutes} minutes`, now)) released++;
    }
    if (released > 0) this.d.logger.warn({ count: released, age_minutes: ageMinutes }, 'released servers stuck restoring a backup');
    return released;
  }

  subjects(backup: BackupRow, server: ServerRow): Array<{ type: string; id: number }> {
    return [{ type: 'backup', id: backup.id }, { type: 'server', id: server.id }];
  }
}
