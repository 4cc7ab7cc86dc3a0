/**
 * Copies of local archives (docs/destinations.md): the panel presigns a multipart upload at the
 * copy's S3 destination and the node, which alone holds the file, PUTs it part by part (the same
 * retrying part upload as its S3 backups). The panel then completes the upload and checks the
 * copy's checksum itself; the node only moves bytes.
 */
import type { Logger } from '../../core/logger.ts';
import type { DaemonArchiveStat, DaemonCopyRequest, DaemonCopyResult } from '../../wire/daemon-api.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import type { BackupStore } from './backup-store.ts';
import { putPart } from './part-upload.ts';

export class BackupCopyService {
  readonly #closing = new AbortController();

  constructor(private readonly deps: { store: BackupStore; logger: Logger }) {}

  /** The local archive's size; 404 when this node does not hold it. */
  async stat(serverUuid: string, rawBackup: string): Promise<DaemonArchiveStat> {
    const found = await this.#find(serverUuid, rawBackup);
    return { size: found.size };
  }

  async upload(serverUuid: string, rawBackup: string, req: DaemonCopyRequest): Promise<DaemonCopyResult> {
    const found = await this.#find(serverUuid, rawBackup);
    const needed = Math.max(1, Math.ceil(found.size / req.part_size));
    const first = req.first_part ?? 1;
    const last = first + req.parts.length - 1;
    // Without first_part the request names every part (the whole archive in one call); with it, a
    // round of the panel's names a range that must lie inside the archive.
    if (req.first_part === undefined ? needed !== req.parts.length : last > needed) {
      const asked = req.first_part === undefined ? `not ${req.parts.length}` : `not parts ${first}-${last}`;
      throw daemonErrors.badRequest(`The archive is ${found.size} bytes: ${needed} parts of ${req.part_size} bytes, ${asked}.`);
    }
    const parts: DaemonCopyResult['parts'] = [];
    for (const [i, url] of req.parts.entries()) {
      const start = (first - 1 + i) * req.part_size;
      const length = Math.min(req.part_size, found.size - start);
      parts.push({ part_number: first + i, etag: await putPart(url, { file: found.path, start, length }, { signal: this.#closing.signal }) });
    }
    this.deps.logger.info({ server_uuid: serverUuid, backup_uuid: found.uuid, size: found.size, parts: `${first}-${last}` }, 'local archive uploaded for a copy');
    return { size: found.size, parts };
  }

  close(): void {
    this.#closing.abort();
  }

  async #find(serverUuid: string, rawBackup: string): Promise<{ uuid: string; path: string; size: number }> {
    const uuid = canonicalUuid(rawBackup);
    if (!uuid) throw daemonErrors.badUuid();
    const found = await this.deps.store.claim(serverUuid, uuid);
    if (!found) throw daemonErrors.backupNotFound();
    return { uuid, path: found.path, size: found.size };
  }
}
