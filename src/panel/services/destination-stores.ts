/**
 * One S3 client per destination, built on first use (the AWS SDK costs ~25 MiB, so a panel with
 * only local destinations never loads it) and rebuilt when the destination's row changes.
 */
import type { SecretBox } from '../../core/secret-box.ts';
import type { Logger } from '../../core/logger.ts';
import type { PanelConfig } from '../config.ts';
import type { DestinationRow } from '../db/destinations.schema.ts';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import type { Repos } from '../repositories/index.ts';
import type { PanelS3Config, S3BackupStore } from '../storage/s3-backup-store.ts';

/** What an S3 destination's row says, in the store's terms (the secret opened). */
export function s3ConfigOf(dest: DestinationRow, secrets: SecretBox, config: PanelConfig): PanelS3Config {
  return {
    bucket: dest.bucket ?? '',
    region: dest.region ?? 'us-east-1',
    endpoint: dest.endpoint ?? undefined,
    accessKeyId: dest.access_key_id ?? undefined,
    secretAccessKey: dest.secret_access_key ? secrets.open(dest.secret_access_key) : undefined,
    forcePathStyle: dest.path_style === 1,
    maxPartSize: dest.part_size ?? config.defaultPartSize,
    presignedUrlLifespanMinutes: config.presignedUrlLifespanMinutes,
    storageClass: dest.storage_class ?? undefined,
    prefix: dest.prefix,
  };
}

export async function openS3Store(cfg: PanelS3Config, logger: Logger): Promise<S3BackupStore> {
  const { createS3BackupStore } = await import('../storage/s3-backup-store.ts');
  return createS3BackupStore(cfg, logger);
}

/**
 * Where a backup written by something that predates destinations (no destination_id) lives: the
 * default if it is of the backup's kind, else the first destination (by id) that is.
 */
export function unpinnedDestination(destinations: DestinationRow[], backup: Pick<BackupRow, 'disk'>): DestinationRow | undefined {
  const kind = backup.disk === 's3' ? 's3' : 'local';
  return destinations.find((d) => d.kind === kind && d.is_default === 1) ?? destinations.find((d) => d.kind === kind);
}

export class DestinationStores {
  readonly #cache = new Map<number, { updatedAt: string; store: Promise<S3BackupStore> }>();

  constructor(private readonly d: { repos: Repos; secrets: SecretBox; config: PanelConfig; logger: Logger }) {}

  /** The destination a backup's archive lives at: its own, or (rows from before destinations) the default. */
  async ofBackup(backup: Pick<BackupRow, 'destination_id' | 'disk'>): Promise<DestinationRow> {
    const r = this.d.repos.destinations;
    if (backup.destination_id !== null) {
      const own = await r.findById(backup.destination_id);
      if (own) return own;
    } else {
      const dest = unpinnedDestination(await r.list(), backup);
      if (dest) return dest;
    }
    throw PanelErrors.s3NotConfigured();
  }

  /** Where a new backup of `server` goes: the server's override, its node's, or the default. */
  async forServer(server: Pick<ServerRow, 'id'>, node: Pick<NodeRow, 'id'>): Promise<DestinationRow & { explicit: boolean }> {
    // Read now: the rows the caller holds may predate an assignment made a moment ago.
    const dest = await this.d.repos.destinations.assignedTo(server.id, node.id);
    if (!dest) throw PanelErrors.s3NotConfigured();
    return dest;
  }

  /** The S3 store of an S3 destination. */
  s3(dest: DestinationRow): Promise<S3BackupStore> {
    if (dest.kind !== 's3') throw PanelErrors.s3NotConfigured();
    const hit = this.#cache.get(dest.id);
    if (hit && hit.updatedAt === dest.updated_at) return hit.store;
    const store = openS3Store(s3ConfigOf(dest, this.d.secrets, this.d.config), this.d.logger);
    this.#cache.set(dest.id, { updatedAt: dest.updated_at, store });
    // A failed build is not remembered.
    store.catch(() => this.#cache.delete(dest.id));
    return store;
  }

  /** The S3 store holding a backup's archive. */
  async s3OfBackup(backup: Pick<BackupRow, 'destination_id' | 'disk'>): Promise<S3BackupStore> {
    return this.s3(await this.ofBackup(backup));
  }

  forget(id: number): void {
    this.#cache.delete(id);
  }
}
