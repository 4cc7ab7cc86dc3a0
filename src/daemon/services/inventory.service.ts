/**
 * What this daemon holds, for the panel's reconciler (issue 12): archives on disk with their
 * owners, running jobs, jobs finished in this process's lifetime, and reports still queued. The
 * panel fails an in-progress backup only if none of these mentions it.
 */
import type { DaemonInventory, DaemonInventoryJob } from '../../wire/daemon-api.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import type { Logger } from '../../core/logger.ts';
import type { BackupService } from './backup.service.ts';
import type { BackupStore } from './backup-store.ts';
import type { ReportOutbox } from './report-outbox.ts';
import type { RestoreService } from './restore.service.ts';

const REPORT_PATH = /^\/backups\/([0-9a-f-]{36})(\/restore)?$/;

export class InventoryService {
  constructor(private readonly deps: { store: BackupStore; backups: BackupService; restores: RestoreService; outbox: ReportOutbox; logger: Logger }) {}

  async inventory(): Promise<DaemonInventory> {
    const { store, backups, restores, outbox } = this.deps;
    const jobs: DaemonInventoryJob[] = [];
    for (const j of backups.running()) jobs.push({ kind: 'backup', backup_uuid: j.backupUuid, server_uuid: j.serverUuid, state: 'running' });
    for (const j of restores.running()) jobs.push({ kind: 'restore', backup_uuid: j.backupUuid, server_uuid: j.serverUuid, state: 'running' });
    for (const j of [...backups.recent.list(), ...restores.recent.list()]) {
      jobs.push({ kind: j.kind, backup_uuid: j.backup_uuid, server_uuid: j.server_uuid, state: 'finished', successful: j.successful, ...(j.failure_reason ? { failure_reason: j.failure_reason } : {}) });
    }
    for (const r of outbox.pending()) {
      const m = REPORT_PATH.exec(r.path);
      if (!m) continue;
      const body = (r.body ?? {}) as { successful?: unknown; failure_reason?: unknown };
      jobs.push({
        kind: m[2] ? 'restore' : 'backup', backup_uuid: m[1]!, server_uuid: null, state: 'report_pending',
        successful: body.successful === true,
        ...(typeof body.failure_reason === 'string' ? { failure_reason: body.failure_reason } : {}),
      });
    }
    const archives = (await store.listArchives()).map((a) => ({ uuid: a.uuid, server_uuid: a.serverUuid, size: a.size, ...(a.indexSize > 0 ? { index_size: a.indexSize } : {}), age_seconds: a.ageSeconds }));
    return { archives, jobs };
  }

  /**
   * Removes an archive the panel has no live backup for, whoever owns it (the owner's server may
   * be gone, the sidecar may be missing). A running job's archive is refused: the panel looks again.
   */
  async removeOrphan(raw: string): Promise<void> {
    const uuid = canonicalUuid(raw);
    if (!uuid) throw daemonErrors.badUuid();
    if (this.deps.backups.running().some((j) => j.backupUuid === uuid)) throw daemonErrors.backupExists();
    await this.deps.store.removeEverywhere(uuid);
    this.deps.logger.warn({ backup_uuid: uuid }, 'archive removed by the panel\'s reconciler (no live backup on the panel)');
  }
}
