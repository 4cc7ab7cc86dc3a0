/**
 * The storage quota per server (issue 17): bytes of live successful backups, beside the count
 * limit. Checked up front from the last backup's size (the best guess of the next one), and
 * enforced when a backup completes: a scheduled backup rotates the oldest unlocked ones out to
 * fit, a manual one over quota fails and is removed.
 */
import { shortBytes } from '../../core/bytes.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import type { ActivityService } from './activity.service.ts';
import { isSuccessful } from './backup-view.ts';
import type { BackupsService } from './backups.service.ts';
import type { ServiceDeps } from './deps.ts';
import { bytesLimitOf } from './servers.service.ts';

export interface StorageUsage {
  used: number;
  locked: number;
  last: number;
}

/**
 * Why a new backup cannot fit, or null. A manual one must fit beside every backup there is; a
 * scheduled one beside the locked ones only (it may rotate the rest out).
 */
export function quotaRefusal(quota: number | null, usage: StorageUsage, automatic: boolean): string | null {
  if (quota === null) return null;
  const kept = automatic ? usage.locked : usage.used;
  if (kept + usage.last <= quota) return null;
  const what = automatic ? `locked backups take ${shortBytes(usage.locked)}` : `${shortBytes(usage.used)} is used`;
  return `This server's backups may use ${shortBytes(quota)}: ${what} and the last backup was ${shortBytes(usage.last)}, so another would not fit.${automatic ? '' : ' Delete or unlock older backups first.'}`;
}

export class StorageQuotaService {
  constructor(private readonly d: ServiceDeps, private readonly activity: ActivityService, private readonly backups: BackupsService) {}

  /**
   * A backup of `size` bytes has just been made: null when it fits (after rotating older unlocked
   * backups out, for a scheduled one), else why it does not (the caller fails it and removes it).
   */
  async enforceAtCompletion(node: NodeRow, server: ServerRow, backup: BackupRow, size: number): Promise<string | null> {
    const quota = bytesLimitOf((await this.d.repos.servers.findById(server.id)) ?? server);
    if (quota === null) return null;
    const others = await this.d.repos.backups.storageUsage(server.id, backup.id);
    let total = others.used + size;
    if (total <= quota) return null;
    const over = `over the storage quota: ${shortBytes(total)} of ${shortBytes(quota)} with this backup (${shortBytes(size)})`;
    if (backup.automatic !== 1) return over;
    const candidates = (await this.d.repos.backups.listAllForServer(server.id))
      .filter((b) => b.id !== backup.id && isSuccessful(b) && b.is_locked !== 1);
    const remove: BackupRow[] = [];
    for (const c of candidates) {
      if (total <= quota) break;
      remove.push(c);
      total -= Number(c.bytes);
    }
    if (total > quota) return `${over}, even after rotating out every unlocked backup`;
    for (const victim of remove) {
      try {
        await this.backups.delete({ server, node }, victim, null);
      } catch (err) {
        // Locked meanwhile, or its storage refused: this one cannot stay over quota either.
        this.d.logger.warn({ backup_uuid: victim.uuid, err: errorMessage(err) }, 'quota rotation could not delete a backup');
        return `${over}; rotating out "${victim.name}" failed`;
      }
      await this.activity.log({
        event: 'server:backup.rotate', actor: null,
        properties: { name: victim.name, uuid: victim.uuid, reason: 'storage quota' },
        subjects: [{ type: 'backup', id: victim.id }, { type: 'server', id: server.id }],
      });
    }
    return null;
  }
}
