/**
 * Verification (issue 17): a stored archive is read back from where it lives and its checksum and
 * tar stream checked, by the node that holds it (local disk) or that would restore it (S3, through
 * a presigned GET), so the panel never moves archive bytes. A damaged backup keeps its row and lock
 * (only a person deletes it), gets an activity entry and notifies like a failed backup.
 */
import { errorMessage } from '../../core/app-error.ts';
import type { S3BackupStore } from '../storage/s3-backup-store.ts';
import type { DaemonVerifyRequest } from '../../wire/daemon-api.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import type { ActivityService } from './activity.service.ts';
import { isSuccessful } from './backup-view.ts';
import type { BackupTarget } from './backups.service.ts';
import { isoNow, nodeConnection, type Actor, type ServiceDeps } from './deps.ts';
import { noopNotifier, type JobNotifier } from './notifier-port.ts';

export interface VerifyOutcome {
  result: 'good' | 'damaged';
  reason: string | null;
}

const damaged = (reason: string): VerifyOutcome => ({ result: 'damaged', reason });

/** `<type>:<hex>` as the row stores it, split for the daemon. */
function splitChecksum(stored: string | null): { checksum_type: string | null; checksum: string | null } {
  const sep = stored ? stored.indexOf(':') : -1;
  return sep > 0 ? { checksum_type: stored!.slice(0, sep), checksum: stored!.slice(sep + 1) } : { checksum_type: null, checksum: null };
}

export class VerificationService {
  constructor(private readonly d: ServiceDeps, private readonly activity: ActivityService, private readonly notifier: JobNotifier = noopNotifier) {}

  /**
   * Reads `backup` back and records the result. `actor` null = the schedule (no activity entry
   * unless it is found damaged). A node that cannot be asked is an error, never a verdict.
   */
  async verify(target: BackupTarget, backup: BackupRow, actor: Actor | null, opts: { readLimit?: number; background?: boolean } = {}): Promise<BackupRow> {
    if (!isSuccessful(backup)) throw PanelErrors.backupNotVerifiable();
    const outcome = await this.readBack(target, backup, opts.readLimit ?? 0, opts.background === true);
    return this.record(target.server, backup, outcome, actor);
  }

  private async readBack(target: BackupTarget, backup: BackupRow, readLimit: number, background: boolean): Promise<VerifyOutcome> {
    const { server, node } = target;
    const base = { size: Number(backup.bytes), ...splitChecksum(backup.checksum), read_limit: readLimit > 0 ? readLimit : null, ...(background ? { yield_to_backups: true } : {}) };
    if (backup.disk !== 's3') return this.askNode(node, server, backup.uuid, { adapter: 'wings', ...base });
    const store = await this.d.stores.s3OfBackup(backup);
    const key = store.objectKey(server.uuid, backup.uuid);
    const size = await store.objectSize(key);
    if (size === null) return damaged('the object is missing from S3');
    if (size !== base.size) return damaged(`the stored object is ${size} bytes, the backup recorded ${base.size}`);
    return this.readS3Object(node, server, store, backup.uuid, key, base);
  }

  /** The node reads the object through a presigned GET that lives as long as the panel waits. */
  private async readS3Object(node: NodeRow, server: ServerRow, store: S3BackupStore, backupUuid: string, key: string, base: Omit<DaemonVerifyRequest, 'adapter'>): Promise<VerifyOutcome> {
    const url = await store.presignedGetUrl(key, this.d.config.verify.timeoutSeconds + 60);
    return this.askNode(node, server, backupUuid, { adapter: 's3', download_url: url, ...base });
  }

  private async askNode(node: NodeRow, server: ServerRow, backupUuid: string, body: DaemonVerifyRequest): Promise<VerifyOutcome> {
    const r = await this.d.daemon.verifyBackup(nodeConnection(node), server.uuid, backupUuid, body, this.d.config.verify.timeoutSeconds * 1000);
    return { result: r.result, reason: r.reason };
  }

  private async record(server: ServerRow, backup: BackupRow, outcome: VerifyOutcome, actor: Actor | null): Promise<BackupRow> {
    const at = isoNow(this.d.clock);
    await this.d.repos.backups.recordVerification(backup.id, outcome.result, outcome.reason, at);
    const updated = (await this.d.repos.backups.findById(backup.id))!;
    const subjects = [{ type: 'backup', id: backup.id }, { type: 'server', id: server.id }];
    const reason = updated.damage_reason ?? outcome.reason;
    if (actor) {
      await this.activity.log({ event: 'server:backup.verify', actor, properties: { name: backup.name, result: outcome.result, ...(outcome.result === 'damaged' ? { reason } : {}) }, subjects });
    }
    // Told once, when it turns damaged: a weekly schedule must not repeat the alarm every week.
    if (outcome.result === 'damaged' && backup.verification !== 'damaged') {
      this.d.logger.warn({ backup_uuid: backup.uuid, server_uuid: server.uuid, reason }, 'backup found damaged');
      await this.activity.log({ event: 'server:backup.damaged', actor: null, properties: { name: backup.name, reason }, subjects });
      try {
        await this.notifier.jobFinished({ event: 'backup.damaged', server, backup: updated, failureReason: reason, occurredAt: at });
      } catch (err) {
        this.d.logger.error({ backup_uuid: backup.uuid, err: errorMessage(err) }, 'queueing notifications failed');
      }
    }
    return updated;
  }

  /**
   * After an S3 multipart upload completed, before the backup is recorded good: the object's size
   * (HEAD, always) and, with BACKUP_VERIFY_S3_READ_BACK, the whole object read back by the node.
   * `fault` says why it is not good (null = good); `readBack` whether the whole object was read
   * (only then does the backup count as verified; a size check alone leaves it first in line for
   * the schedule).
   */
  async checkCompletedUpload(node: NodeRow, server: ServerRow, store: S3BackupStore, backupUuid: string, expect: { size: number; checksum: string | null; checksumType: string | null }): Promise<{ fault: string | null; readBack: boolean }> {
    const key = store.objectKey(server.uuid, backupUuid);
    const size = await store.objectSize(key);
    if (size === null) return { fault: 'the object is missing from S3 after the upload completed', readBack: false };
    if (size !== expect.size) return { fault: `S3 holds ${size} bytes, the node uploaded ${expect.size}`, readBack: false };
    if (!this.d.config.verify.s3ReadBack) return { fault: null, readBack: false };
    const outcome = await this.readS3Object(node, server, store, backupUuid, key, { size: expect.size, checksum: expect.checksum, checksum_type: expect.checksumType });
    return { fault: outcome.result === 'good' ? null : outcome.reason ?? 'the stored object is damaged', readBack: true };
  }
}
