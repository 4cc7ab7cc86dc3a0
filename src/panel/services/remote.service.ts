import { crashPoint } from '../../core/crash-points.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { RemoteBackupStatus, RemoteIndexUploadUrl, RemoteServer, RemoteServerList, RemoteUploadUrls } from '../../wire/remote-api.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { clampReason } from '../repositories/backups.repository.ts';
import type { ActivityService } from './activity.service.ts';
import { isoNow, nodeConnection, type ServiceDeps } from './deps.ts';
import { noopNotifier, type JobEvent, type JobNotifier } from './notifier-port.ts';
import type { VerificationService } from './verification.service.ts';
import type { StorageQuotaService } from './storage-quota.ts';

/** The stored `<type>:<hex>` column is varchar(191). */
const MAX_CHECKSUM_LENGTH = 191;

export type BackupCompletedListener = (e: { backup: BackupRow; server: ServerRow; successful: boolean }) => void | Promise<void>;

/** The reason stored with a failed backup, as the activity entry repeats it. */
function failureReasonOf(body: RemoteBackupStatus): string {
  return clampReason(body.failure_reason) ?? 'the daemon reported the backup failed';
}

function toRemoteServer(s: ServerRow): RemoteServer {
  return { uuid: s.uuid, settings: { uuid: s.uuid, suspended: s.status === 'suspended' } };
}

/** What daemons report back through `/api/remote`. Every method takes the authenticated node. */
/** backwing's changed-files report, bounded before it is stored (a daemon is trusted, not unlimited). */
/** restic backups (backwing): what the snapshot added and the server's repository total. */
function resticFields(body: RemoteBackupStatus): { snapshot_id?: string; bytes_added?: number; repository_size?: number } {
  const nat = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
  const id = typeof body.snapshot_id === 'string' && /^[0-9a-f]{8,64}$/.test(body.snapshot_id) ? body.snapshot_id : undefined;
  return { ...(id ? { snapshot_id: id } : {}), ...(nat(body.bytes_added) !== undefined ? { bytes_added: nat(body.bytes_added) } : {}), ...(nat(body.repository_size) !== undefined ? { repository_size: nat(body.repository_size) } : {}) };
}

function changedFilesJson(c: RemoteBackupStatus['changed_files']): string | null {
  if (!c || !Number.isSafeInteger(c.count) || c.count < 0 || !Array.isArray(c.names)) return null;
  const names = c.names.filter((n): n is string => typeof n === 'string').slice(0, 20).map((n) => n.slice(0, 4096));
  const inconsistent = Number.isSafeInteger(c.inconsistent) && c.inconsistent! >= 0 ? { inconsistent: c.inconsistent } : {};
  return JSON.stringify({ count: c.count, names, ...inconsistent });
}

export class RemoteService {
  private readonly completedListeners: BackupCompletedListener[] = [];
  private readonly resetListeners: Array<(node: NodeRow) => void> = [];

  constructor(
    private readonly d: ServiceDeps,
    private readonly activity: ActivityService,
    private readonly notifier: JobNotifier = noopNotifier,
    private readonly verification?: VerificationService,
    private readonly quota?: StorageQuotaService,
  ) {}

  /** Queues the job's notifications; a failure is logged and never reaches the daemon's report. */
  private async notify(e: JobEvent): Promise<void> {
    try {
      await this.notifier.jobFinished(e);
    } catch (err) {
      this.d.logger.error({ backup_uuid: e.backup.uuid, event: e.event, err: errorMessage(err) }, 'queueing notifications failed');
    }
  }

  /** Called after a backup's result is stored (schedules run retention from here). Errors are logged, never thrown to the daemon. */
  onBackupCompleted(listener: BackupCompletedListener): void {
    this.completedListeners.push(listener);
  }

  /** Called when a node's daemon says it restarted (the reconciler looks at that node at once). */
  onServersReset(listener: (node: NodeRow) => void): void {
    this.resetListeners.push(listener);
  }

  async listServers(node: NodeRow, page: number, perPage: number): Promise<RemoteServerList> {
    const r = await this.d.repos.servers.listByNode(node.id, { page, perPage });
    return {
      data: r.rows.map(toRemoteServer),
      meta: { current_page: page, last_page: Math.max(1, Math.ceil(r.total / perPage)), per_page: perPage, total: r.total },
    };
  }

  async getServer(node: NodeRow, uuid: string): Promise<RemoteServer> {
    const s = await this.d.repos.servers.findByUuid(uuid);
    if (!s || s.node_id !== node.id) throw PanelErrors.resourceNotFound();
    return toRemoteServer(s);
  }

  /** Looks a backup up for a node: 404 unknown, 403 when its server lives on another node. */
  private async ownedBackup(node: NodeRow, uuid: string, opts: { includeDeleted?: boolean } = {}): Promise<{ backup: BackupRow; server: ServerRow }> {
    const backup = opts.includeDeleted ? await this.d.repos.backups.findAnyByUuid(uuid) : await this.d.repos.backups.findLiveByUuid(uuid);
    if (!backup) throw PanelErrors.resourceNotFound();
    const server = await this.d.repos.servers.findById(backup.server_id);
    if (!server) throw PanelErrors.resourceNotFound();
    if (server.node_id !== node.id) throw PanelErrors.remoteForeignBackup();
    return { backup, server };
  }

  /**
   * Presigned UploadPart URLs. Asking again (with a larger size) re-signs the same multipart upload
   * so a daemon streaming an archive of unknown size can extend it; upstream starts a new upload.
   */
  async uploadUrls(node: NodeRow, uuid: string, rawSize: unknown, growing = false): Promise<RemoteUploadUrls> {
    const size = typeof rawSize === 'string' && /^\d+$/.test(rawSize.trim()) ? Number(rawSize) : Number.NaN;
    if (!Number.isSafeInteger(size) || size <= 0) throw PanelErrors.remoteSizeRequired();
    const { backup, server } = await this.ownedBackup(node, uuid);
    if (backup.completed_at !== null) throw PanelErrors.remoteAlreadyCompleted();
    if (backup.disk !== 's3') throw PanelErrors.remoteNotS3();
    const store = await this.d.stores.s3OfBackup(backup);
    const key = store.objectKey(server.uuid, backup.uuid);
    const r = await store.presignUpload(key, backup.upload_id, size, { growing });
    if (r.uploadId !== backup.upload_id) await this.d.repos.backups.update(backup.id, { upload_id: r.uploadId }, isoNow(this.d.clock));
    return { parts: r.parts, part_size: r.partSize, extendable: true, ...(growing ? { growing_parts: true } : {}) };
  }

  /** backwing: a presigned PUT for the index object beside a running S3 backup's archive. */
  async indexUploadUrl(node: NodeRow, uuid: string): Promise<RemoteIndexUploadUrl> {
    const { backup, server } = await this.ownedBackup(node, uuid);
    if (backup.completed_at !== null) throw PanelErrors.remoteAlreadyCompleted();
    if (backup.disk !== 's3') throw PanelErrors.remoteNotS3();
    const store = await this.d.stores.s3OfBackup(backup);
    return { url: await store.presignedPutUrl(store.indexKey(server.uuid, backup.uuid), 30 * 60) };
  }

  /**
   * Stores a backup's result. S3 work (complete/abort the multipart upload) happens before the row
   * changes so a failed completion leaves the backup in progress for the daemon to report again.
   */
  async reportBackup(node: NodeRow, uuid: string, body: RemoteBackupStatus): Promise<void> {
    const { backup, server } = await this.ownedBackup(node, uuid);
    if (backup.is_successful === 1) throw PanelErrors.remoteAlreadySuccessful();
    if (body.successful) {
      const fields: Array<[string, unknown]> = [['checksum', body.checksum], ['checksum_type', body.checksum_type], ['size', body.size]];
      for (const [field, value] of fields) {
        if (value === undefined || value === null || value === '') {
          throw PanelErrors.validation(field, 'required_if', `The ${field.replace('_', ' ')} field is required when successful is true.`);
        }
      }
    }
    if (body.successful) {
      // Checked before any S3 work: a value the row cannot hold would fail after the upload was completed.
      if (Number(body.size) > Number.MAX_SAFE_INTEGER) {
        throw PanelErrors.validation('size', 'max', `The size field must not be greater than ${Number.MAX_SAFE_INTEGER}.`);
      }
      if (`${body.checksum_type}:${body.checksum}`.length > MAX_CHECKSUM_LENGTH) {
        throw PanelErrors.validation('checksum', 'max', `The checksum and checksum type together must not be longer than ${MAX_CHECKSUM_LENGTH - 1} characters.`);
      }
    }
    // Whether the stored archive was read back before this report is recorded (issue 17).
    let readBack = backup.disk !== 's3' && body.verified === true;
    if (backup.disk === 's3') {
      const store = await this.d.stores.s3OfBackup(backup);
      const key = store.objectKey(server.uuid, backup.uuid);
      if (!backup.upload_id) {
        if (body.successful) throw PanelErrors.remoteNoUploadId();
      } else if (body.successful) {
        await store.completeUpload(key, backup.upload_id, body.parts ?? null);
        // S3 holds the object now; the row says so only after the update below (the daemon retries).
        await crashPoint('backup.report:after-s3-complete');
        // Read back before it is recorded good (issue 17); a bad object is removed, never kept as good.
        const check = await this.verification?.checkCompletedUpload(node, server, store, backup.uuid, { size: Number(body.size), checksum: body.checksum ?? null, checksumType: body.checksum_type ?? null });
        const fault = check?.fault;
        readBack = check?.readBack === true;
        if (fault) {
          this.d.logger.warn({ backup_uuid: backup.uuid, reason: fault }, 's3 backup failed its verification');
          // Its index object (uploaded before the report) goes with it.
          for (const k of [key, store.indexKey(server.uuid, backup.uuid)]) {
            await store.deleteObject(k).catch((err: unknown) => {
              this.d.logger.warn({ backup_uuid: backup.uuid, key: k, err: errorMessage(err) }, 'deleting the unverified object failed');
            });
          }
          body = { ...body, successful: false, failure_reason: `verification failed: ${fault}` };
        }
      } else {
        await store.abortUpload(key, backup.upload_id).catch((err: unknown) => {
          this.d.logger.warn({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'abort multipart upload failed');
        });
      }
    }
    if (body.successful && this.quota) {
      const over = await this.quota.enforceAtCompletion(node, server, backup, Number(body.size));
      if (over) {
        await this.removeOverQuota(node, server, backup);
        body = { ...body, successful: false, failure_reason: over };
      }
    }
    const now = this.d.clock();
    const at = now.toISOString();
    // A backwing daemon reads a local archive back before it reports (`verified`); S3 ones were read above.
    const verified = body.successful && readBack ? { verified_at: at, verification: 'good' as const } : {};
    const patch = body.successful
      ? { is_successful: true, checksum: `${body.checksum_type}:${body.checksum}`, bytes: Number(body.size), completed_at: at, changed_files: changedFilesJson(body.changed_files), index_bytes: body.index_size ?? null, ...verified, ...resticFields(body) }
      : { is_successful: false, is_locked: false, checksum: null, bytes: 0, completed_at: at, failure_reason: failureReasonOf(body) };
    // A daemon retrying a report it thinks was lost can race the original: only one of them lands.
    if (!(await this.d.repos.backups.updateIfUnchanged(backup.id, backup.updated_at, patch, at))) throw PanelErrors.remoteAlreadySuccessful();
    const durationSeconds = Math.max(0, (now.getTime() - new Date(backup.created_at).getTime()) / 1000);
    this.d.metrics.backupFinished({ driver: backup.disk, successful: body.successful, bytes: body.successful ? Number(body.size) : 0, durationSeconds });
    await this.activity.log({
      event: body.successful ? 'server:backup.complete' : 'server:backup.fail',
      actor: null,
      properties: body.successful ? { name: backup.name } : { name: backup.name, reason: failureReasonOf(body) },
      subjects: [{ type: 'backup', id: backup.id }, { type: 'server', id: server.id }],
    });
    const updated = (await this.d.repos.backups.findById(backup.id))!;
    await this.notify({ event: body.successful ? 'backup.completed' : 'backup.failed', server, backup: updated, failureReason: body.successful ? null : failureReasonOf(body), occurredAt: at });
    for (const l of this.completedListeners) {
      try {
        await l({ backup: updated, server, successful: body.successful });
      } catch (err) {
        this.d.logger.error({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'backup completion listener failed');
      }
    }
  }

  /** A manual backup that does not fit the storage quota is failed and its archive removed. */
  private async removeOverQuota(node: NodeRow, server: ServerRow, backup: BackupRow): Promise<void> {
    try {
      if (backup.disk === 's3') {
        const store = await this.d.stores.s3OfBackup(backup);
        await store.deleteObject(store.objectKey(server.uuid, backup.uuid));
        await store.deleteObject(store.indexKey(server.uuid, backup.uuid));
      }
      else await this.d.daemon.deleteBackup(nodeConnection(node), server.uuid, backup.uuid);
    } catch (err) {
      // Recorded failed either way (the report must land); the leftover archive is in the log for an admin.
      this.d.logger.warn({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'removing a backup over quota failed');
    }
  }

  /** A restore finished: the server leaves `restoring_backup` whatever the outcome. */
  async reportRestore(node: NodeRow, uuid: string, successful: boolean, failureReason?: string | null): Promise<void> {
    // The backup may have been deleted while it was being restored; the server must still be released.
    const { backup, server } = await this.ownedBackup(node, uuid, { includeDeleted: true });
    const reason = successful ? null : clampReason(failureReason) ?? 'the daemon reported the restore failed';
    // One transaction: whoever sees the server usable again also sees why in the activity log.
    await this.d.tx(async (repos) => {
      // Only undo our own state: a server suspended meanwhile stays suspended.
      await repos.servers.transitionStatus(server.id, 'restoring_backup', null, isoNow(this.d.clock));
      await this.activity.log({
        event: successful ? 'server:backup.restore-complete' : 'server:backup.restore-failed',
        actor: null,
        properties: successful ? { name: backup.name } : { name: backup.name, reason },
        subjects: [{ type: 'backup', id: backup.id }, { type: 'server', id: server.id }],
      }, repos);
    });
    this.d.metrics.restoreFinished(successful);
    await this.notify({ event: successful ? 'restore.completed' : 'restore.failed', server, backup, failureReason: reason, occurredAt: isoNow(this.d.clock) });
  }

  /** The daemon restarted: nothing it was installing or restoring is still running. */
  async resetServers(node: NodeRow): Promise<number> {
    const reset = await this.d.repos.servers.resetStatuses(node.id, ['installing', 'restoring_backup'], isoNow(this.d.clock));
    for (const s of reset.filter((r) => r.status === 'restoring_backup')) {
      this.d.metrics.restoreFinished(false);
      const reason = 'interrupted: the daemon was restarted';
      await this.activity.logRestoreAbandoned(s.id, reason);
      const last = await this.activity.lastRestoreRequest(s.id);
      const backup = last?.backupId === undefined ? undefined : await this.d.repos.backups.findById(last.backupId);
      if (backup) await this.notify({ event: 'restore.failed', server: s, backup, failureReason: reason, occurredAt: isoNow(this.d.clock) });
    }
    for (const l of this.resetListeners) {
      try {
        l(node);
      } catch (err) {
        this.d.logger.error({ node: node.uuid, err: errorMessage(err) }, 'servers-reset listener failed');
      }
    }
    return reset.length;
  }
}
