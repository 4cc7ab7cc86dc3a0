/**
 * Copies (3-2-1, docs/destinations.md): when a backup completes at a destination that names a
 * `copy_to_id`, a copy is queued and made in the background — server-side (CopyObject) within one
 * S3 provider, streamed through the panel otherwise, uploaded by the node from its disk for a
 * local archive — then read back and checked against the backup's own checksum before it counts.
 * Several panels share the queue (a claimed row is leased).
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../../core/app-error.ts';
import type { BackupCopyRow, DestinationRow } from '../db/destinations.schema.ts';
import type { BackupRow, ServerRow } from '../db/schema.ts';
import type { S3BackupStore } from '../storage/s3-backup-store.ts';
import type { DaemonCopyResult } from '../../wire/daemon-api.ts';
import { fixedPartSizeFor, S3_MIN_PART_SIZE } from '../../wire/part-sizes.ts';
import { isoNow, nodeConnection, type ServiceDeps } from './deps.ts';

/** Attempts before a copy is recorded as failed. */
const MAX_ATTEMPTS = 3;
/** How long a claimed copy stays with the panel that took it (a dead panel's copy is retaken after). */
const LEASE_MS = 30 * 60_000;
/** A node uploading its local archive answers when done: hours at most for a huge archive. */
const NODE_UPLOAD_TIMEOUT_MS = 6 * 3600_000;
/** A node's first round of parts: minutes on a slow link, well inside any URL lifespan. */
const FIRST_ROUND_BYTES = 256 * 1024 * 1024;
/** CopyObject and a single PUT both stop at 5 GiB: a larger archive is copied in parts. */
export const SINGLE_REQUEST_COPY_LIMIT = 5 * 1024 * 1024 * 1024;

export class BackupCopiesService {
  #draining: Promise<void> | null = null;
  /** Archives larger than this are copied in parts; a test lowers it to prove that path on a few MiB. */
  singleRequestLimit = SINGLE_REQUEST_COPY_LIMIT;
  /** A node's first round of parts (uploadFromNode); a test lowers it to prove the rounds on a few MiB. */
  firstRoundBytes = FIRST_ROUND_BYTES;

  constructor(private readonly d: ServiceDeps) {}

  /** After a successful completion: queue the copy the destination asks for, and start on it. */
  async onCompleted(backup: BackupRow): Promise<void> {
    // A restic snapshot lives in the node's repository, not as an archive to copy.
    if (backup.is_successful !== 1 || backup.disk === 'restic') return;
    const dest = await this.d.stores.ofBackup(backup);
    if (dest.copy_to_id === null) return;
    await this.d.repos.destinations.queueCopy(backup.id, dest.copy_to_id, isoNow(this.d.clock));
    void this.drain();
  }

  /** Makes every due copy; one drain at a time per process. Resolves when the queue is empty. */
  drain(): Promise<void> {
    this.#draining ??= (async () => {
      try {
        for (;;) {
          const now = this.d.clock();
          const copy = await this.d.repos.destinations.claimCopy(now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString());
          if (!copy) return;
          await this.makeOne(copy);
        }
      } catch (err) {
        this.d.logger.error({ err: errorMessage(err) }, 'backup copy queue failed');
      } finally {
        this.#draining = null;
      }
    })();
    return this.#draining;
  }

  private async makeOne(copy: BackupCopyRow): Promise<void> {
    const at = () => isoNow(this.d.clock);
    const backup = await this.d.repos.backups.findById(copy.backup_id);
    const server = backup ? await this.d.repos.servers.findById(backup.server_id) : undefined;
    if (!backup || !server || backup.deleted_at !== null) {
      await this.d.repos.destinations.deleteCopy(copy.id);
      return;
    }
    try {
      const own = await this.d.stores.ofBackup(backup);
      const target = await this.d.stores.s3((await this.d.repos.destinations.findById(copy.destination_id))!);
      if (own.kind === 'local') await this.uploadFromNode(backup, server, target);
      else await this.copyObject(backup, server, await this.d.stores.s3(own), target);
      const checksum = await this.verify(backup, server, target);
      await this.d.repos.destinations.finishCopy(copy.id, { status: 'done', checksum }, at());
      this.d.logger.info({ backup_uuid: backup.uuid, destination_id: copy.destination_id }, 'backup copied and verified');
    } catch (err) {
      const final = copy.attempts >= MAX_ATTEMPTS;
      await this.d.repos.destinations.finishCopy(copy.id, { status: final ? 'failed' : 'pending', error: errorMessage(err).slice(0, 500) }, at());
      this.d.logger.warn({ backup_uuid: backup.uuid, attempt: copy.attempts, final, err: errorMessage(err) }, 'backup copy failed');
    }
  }

  /**
   * A local archive: the panel presigns a multipart upload at the target, the node PUTs the parts
   * from its disk. A presigned URL expires (the destination's lifespan, an hour by default) and a
   * large archive on a slow link takes longer than that, so the node gets the parts in rounds, each
   * presigned just before it is sent: the first of `firstRoundBytes`, each next one what the last
   * round's rate moves in half a lifespan.
   */
  private async uploadFromNode(backup: BackupRow, server: ServerRow, target: S3BackupStore): Promise<void> {
    const node = await this.d.repos.nodes.findById(server.node_id);
    if (!node) throw new Error('the backup\'s node no longer exists');
    const key = target.objectKey(server.uuid, backup.uuid);
    const size = Number(backup.bytes);
    const partsFor = (first: number, bytes: number, partSize: number) => ({ first, count: Math.max(1, Math.floor(bytes / partSize)) });
    let round = partsFor(1, this.firstRoundBytes, fixedPartSizeFor(target.partSize, size));
    const { uploadId, partSize, parts: firstUrls } = await target.presignUpload(key, null, size, { range: round });
    const total = Math.max(1, Math.ceil(size / partSize));
    round = { first: 1, count: firstUrls.length };
    try {
      const uploaded: DaemonCopyResult['parts'] = [];
      let urls = firstUrls;
      for (;;) {
        const whole = round.first === 1 && round.count === total;
        const started = performance.now();
        const done = await this.d.daemon.copyBackup(nodeConnection(node), server.uuid, backup.uuid, { part_size: partSize, parts: urls, ...(whole ? {} : { first_part: round.first }) }, NODE_UPLOAD_TIMEOUT_MS);
        uploaded.push(...done.parts);
        const next = round.first + round.count;
        if (next > total) break;
        const bytesPerSecond = (round.count * partSize) / Math.max(0.001, (performance.now() - started) / 1000);
        round = partsFor(next, (bytesPerSecond * target.uploadUrlTtlSeconds) / 2, partSize);
        urls = (await target.presignUpload(key, uploadId, size, { range: round })).parts;
        round.count = urls.length;
      }
      await target.completeUpload(key, uploadId, uploaded);
    } catch (err) {
      await target.abortUpload(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  /** An S3 archive: server-side within one provider, streamed otherwise; in parts over the single-request limit. */
  private async copyObject(backup: BackupRow, server: ServerRow, source: S3BackupStore, target: S3BackupStore): Promise<void> {
    const key = source.objectKey(server.uuid, backup.uuid);
    const targetKey = target.objectKey(server.uuid, backup.uuid);
    const { size } = await source.head(key, 30_000);
    const a = source.location;
    const b = target.location;
    const sameProvider = a.endpoint === b.endpoint && a.region === b.region && a.accessKeyId === b.accessKeyId;
    if (size > this.singleRequestLimit) {
      // The target's part size, raised so the copy fits S3's 10,000 parts (5 TiB at most).
      const partSize = fixedPartSizeFor(Math.max(S3_MIN_PART_SIZE, target.partSize), size);
      await target.copyInParts({ bucket: a.bucket, key, sameProvider, store: source }, targetKey, size, partSize);
    } else if (sameProvider) {
      await target.copyFrom(a.bucket, key, targetKey);
    } else {
      await target.put(targetKey, await source.read(key), size);
    }
  }

  /** Reads the copy back; resolves with its checksum once it matches the backup's. */
  private async verify(backup: BackupRow, server: ServerRow, target: S3BackupStore): Promise<string> {
    const targetKey = target.objectKey(server.uuid, backup.uuid);
    const [type, expected] = (backup.checksum ?? '').split(':');
    if (!type || !expected) throw new Error('the backup has no checksum to verify its copy against');
    const hash = createHash(type);
    for await (const chunk of await target.read(targetKey)) hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    if (got !== expected) throw new Error(`the copy's ${type} is ${got}, the backup's is ${expected}`);
    return `${type}:${got}`;
  }

  /** Verified copies of these backups, by backup id. */
  async doneCopies(backupIds: number[]): Promise<Map<number, BackupCopyRow[]>> {
    const out = new Map<number, BackupCopyRow[]>();
    for (const c of await this.d.repos.destinations.copiesOf(backupIds)) {
      if (c.status !== 'done') continue;
      out.set(c.backup_id, [...(out.get(c.backup_id) ?? []), c]);
    }
    return out;
  }

  /** The first verified copy's destination, for when the backup's own destination is unavailable. */
  async fallback(backup: BackupRow): Promise<DestinationRow | undefined> {
    const copy = (await this.doneCopies([backup.id])).get(backup.id)?.[0];
    return copy ? this.d.repos.destinations.findById(copy.destination_id) : undefined;
  }

  /** Deletes every copy's object and row (the backup is being deleted). */
  async removeCopies(backup: BackupRow, server: ServerRow): Promise<void> {
    for (const c of await this.d.repos.destinations.copiesOf([backup.id])) {
      const dest = await this.d.repos.destinations.findById(c.destination_id);
      if (dest?.kind === 's3') {
        const store = await this.d.stores.s3(dest);
        await store.deleteObject(store.objectKey(server.uuid, backup.uuid));
      }
      await this.d.repos.destinations.deleteCopy(c.id);
    }
  }
}
