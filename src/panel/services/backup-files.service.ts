/**
 * backwing (issue 14): browsing a backup's files through its node, and one-time links to one file
 * or folder. The daemon reads the backup index and checks every path (422 for `..`, NUL or
 * absolute, 404 naming a path the backup lacks); the panel passes its answers on.
 */
import type { BackupComparison, BackupFileList } from '../../wire/daemon-api.ts';
import type { BackupRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { signDownloadToken } from '../tokens.ts';
import type { ActivityService } from './activity.service.ts';
import { isSuccessful } from './backup-view.ts';
import type { BackupsService, BackupTarget } from './backups.service.ts';
import { nodeConnection, type Actor, type ServiceDeps } from './deps.ts';
import type { BackupSource } from '../daemon-client/daemon-client.ts';

export const FILES_PER_PAGE = 100;
export const FILES_MAX_PER_PAGE = 500;

export class BackupFilesService {
  constructor(private readonly d: ServiceDeps, private readonly activity: ActivityService, private readonly backups: BackupsService) {}

  /**
   * Only finished, successful backups have files to show. For S3 ones the daemon gets presigned
   * URLs of the archive (read with Range requests) and of the index object; for restic ones the
   * node's repository, sealed for that node (the daemon lists the snapshot with `restic ls`).
   */
  async #check(target: BackupTarget, backup: BackupRow): Promise<BackupSource | undefined> {
    if (!isSuccessful(backup)) throw PanelErrors.backupNotDownloadable();
    if (backup.disk === 's3') return this.backups.s3Urls(target, backup);
    if (backup.disk === 'restic') return { restic: await this.backups.resticClaim(target.node, backup) };
    if (backup.disk !== 'wings') throw PanelErrors.unknownDisk();
    return undefined;
  }

  async list(target: BackupTarget, backup: BackupRow, q: { path?: string; pattern?: string; page: number; perPage: number }): Promise<BackupFileList> {
    const source = await this.#check(target, backup);
    return this.d.daemon.backupFiles(nodeConnection(target.node), target.server.uuid, backup.uuid, q, source);
  }

  /** What changed from `backup` to `other` (another backup of the same server), from their indexes. */
  async compare(target: BackupTarget, backup: BackupRow, otherUuid: string, q: { page: number; perPage: number }): Promise<BackupComparison> {
    const other = await this.d.repos.backups.findLiveForServer(target.server.id, otherUuid);
    if (!other) throw PanelErrors.validation('with', 'exists', 'The backup to compare with is not a backup of this server.');
    const [sourceA, sourceB] = await Promise.all([this.#check(target, backup), this.#check(target, other)]);
    return this.d.daemon.compareBackups(nodeConnection(target.node), target.server.uuid, backup.uuid, other.uuid, q, sourceA, sourceB);
  }

  /** A one-time link to one file (raw) or folder (.tar.gz); the path is checked when it is used. */
  async downloadUrl(target: BackupTarget, backup: BackupRow, path: string, actor: Actor): Promise<string> {
    const source = await this.#check(target, backup);
    if (path.includes('\0') || path.startsWith('/') || path.split('/').includes('..')) {
      throw PanelErrors.validation('path', 'path', 'The path must be relative to the backup, without ".." or NUL.');
    }
    // Asked now, so a path the backup lacks is a 404 here rather than on the link.
    const entry = await this.d.daemon.backupFileStat(nodeConnection(target.node), target.server.uuid, backup.uuid, path, source);
    if (entry === 'building') throw PanelErrors.conflict('The index of this backup is being built; try again in a moment.');
    if (entry.type !== 'file' && entry.type !== 'dir') throw PanelErrors.validation('path', 'downloadable', `"${entry.path}" is a ${entry.type}; only files and folders can be downloaded.`);
    const token = await signDownloadToken(nodeConnection(target.node), {
      serverUuid: target.server.uuid,
      backupUuid: backup.uuid,
      userUuid: actor.userUuid,
      userId: actor.userId,
      panelUrl: this.d.config.appUrl,
      path,
      ...(source && 'restic' in source ? { restic: source.restic } : source ? { archiveUrl: source.archive, indexUrl: source.index } : {}),
    });
    await this.activity.log({ event: 'server:backup.download', actor, properties: { name: backup.name, path }, subjects: this.backups.subjects(backup, target.server) });
    return `${target.node.url.replace(/\/+$/, '')}/download/backup/file?token=${encodeURIComponent(token)}`;
  }

}
