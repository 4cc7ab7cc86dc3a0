import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { BackupRow, DB } from '../db/schema.ts';
import type { DestinationTables } from '../db/destinations.schema.ts';
import { precompiled } from './precompiled.ts';
import { offsetOf, type PageRequest } from './page.ts';

const COLUMNS = ['backups.id', 'backups.server_id', 'backups.uuid', 'backups.upload_id', 'backups.is_successful', 'backups.is_locked', 'backups.name', 'backups.ignored_files', 'backups.disk', 'backups.checksum', 'backups.bytes', 'backups.completed_at', 'backups.created_at', 'backups.updated_at', 'backups.deleted_at', 'backups.failure_reason', 'backups.purged_at', 'backups.changed_files', 'backups.verified_at', 'backups.verification', 'backups.damage_reason', 'backups.automatic', 'backups.ignore_defaults', 'backups.ignore_egg_defaults', 'backups.destination_id', 'backups.index_bytes', 'backups.snapshot_id', 'backups.bytes_added', 'backups.repository_size'] as const;

/** The columns the client API shows of a backup (services/backup-view.ts, toBackupAttributes). */
export const VIEW_COLUMNS = ['uuid', 'name', 'ignored_files', 'is_successful', 'is_locked', 'checksum', 'bytes', 'created_at', 'completed_at', 'changed_files', 'failure_reason', 'index_bytes', 'verified_at', 'verification', 'damage_reason', 'ignore_defaults', 'ignore_egg_defaults', 'bytes_added', 'repository_size'] as const;
export type BackupViewRow = Pick<BackupRow, typeof VIEW_COLUMNS[number]>;

// Over all of a server's live backups: how many, how many count against the limit (in progress or
// successful, as countNonFailed) and the bytes the successful ones take (storageUsage's `used`).
const TOTALS = [
  ['total', sql`count(*)`],
  ['counted', sql`sum(case when backups.completed_at is null or backups.is_successful = 1 then 1 else 0 end)`],
  ['used', sql`sum(case when backups.is_successful = 1 and backups.completed_at is not null then backups.bytes else 0 end)`],
] as const;

// The client API's backup list, its hottest read, built once (precompiled.ts): one query on
// PostgreSQL, two on SQLite; it was 3 + 1 per backup, each a round trip on PostgreSQL. The page
// reads only the columns the client API shows (better-sqlite3 builds an object per row, and each
// column cost ~1 µs a row here), and beside each backup its destination's name and verified
// copies (backwing fields). A backup's
// destination: its own, or (rows from before destinations) the default if it is of the backup's
// kind, else the first destination that is (unpinnedDestination in destination-stores.ts).
const pageOfServer = precompiled((db: Executor, serverId: number, limit: number, offset: number) => (db as unknown as Kysely<DB & DestinationTables>).selectFrom('backups')
  .leftJoin('destinations', 'destinations.id', 'backups.destination_id')
  .where('backups.server_id', '=', serverId).where('backups.deleted_at', 'is', null)
  .select(VIEW_COLUMNS.map((c) => `backups.${c}` as const))
  .select([
    sql<string | null>`case when backups.destination_id is null then (select k.name from destinations k where k.kind = (case when backups.disk = 's3' then 's3' else 'local' end) order by k.is_default desc, k.id limit 1) else destinations.name end`.as('destination_name'),
    sql<number>`(select count(*) from backup_copies c where c.backup_id = backups.id and c.status = 'done')`.as('copy_count'),
    // PostgreSQL: the totals as window aggregates over the live set (computed before LIMIT), one
    // round trip fewer. SQLite: null here and totalsOfServer, cheaper there than a window.
    ...(db.getExecutor().adapter instanceof PostgresAdapter ? TOTALS.map(([name, expr]) => sql<number | null>`${expr} over ()`.as(name)) : TOTALS.map(([name]) => sql<number | null>`null`.as(name))),
  ])
  .orderBy('backups.id').limit(limit).offset(offset));
// The totals on their own: SQLite (a window on the page cost it ~3× this query, measured), and a
// page past the end on either database (no row to carry them).
const totalsOfServer = precompiled((db: Executor, serverId: number) => db.selectFrom('backups')
  .where('backups.server_id', '=', serverId).where('backups.deleted_at', 'is', null)
  .select(TOTALS.map(([name, expr]) => sql<number>`${expr}`.as(name))));

/** A page of a server's live backups, each with where it lives, and totals over all of them. */
export interface PlacedPage {
  rows: Array<{ backup: BackupViewRow; destination: string | null; copies: number }>;
  total: number;
  /** Live backups that count against the limit. */
  backupCount: number;
  /** Bytes the live successful backups take. */
  backupBytes: number;
}

export interface NewBackupRow {
  server_id: number;
  uuid: string;
  name: string;
  ignored_files: string[];
  disk: string;
  is_locked: boolean;
  at: string;
  /** The destination the archive goes to; recorded once, never changed. */
  destination_id?: number | null;
  /** Made by a schedule (no person asked). */
  automatic?: boolean;
  /** The node's default ignore patterns sent with it. */
  ignore_defaults?: string | null;
  ignore_egg_defaults?: string | null;
}

export interface BackupPatch {
  is_successful?: boolean;
  is_locked?: boolean;
  checksum?: string | null;
  bytes?: number;
  completed_at?: string | null;
  upload_id?: string | null;
  /** JSON text, as stored. */
  changed_files?: string | null;
  failure_reason?: string | null;
  index_bytes?: number | null;
  verified_at?: string | null;
  verification?: 'good' | 'damaged' | null;
  /** restic backups (backwing). */
  snapshot_id?: string | null;
  bytes_added?: number | null;
  repository_size?: number | null;
}

/** The column is text, but a reason is a sentence: anything longer is cut (never rejected). */
export const MAX_FAILURE_REASON_LENGTH = 500;

export function clampReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  const t = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (t === '') return null;
  return t.length > MAX_FAILURE_REASON_LENGTH ? `${t.slice(0, MAX_FAILURE_REASON_LENGTH - 1)}…` : t;
}

/** The columns a patch sets (booleans stored as 0/1), always with a fresh updated_at. */
function patchValues(patch: BackupPatch, at: string) {
  return {
    ...(patch.is_successful !== undefined ? { is_successful: patch.is_successful ? 1 : 0 } : {}),
    ...(patch.is_locked !== undefined ? { is_locked: patch.is_locked ? 1 : 0 } : {}),
    ...(patch.checksum !== undefined ? { checksum: patch.checksum } : {}),
    ...(patch.bytes !== undefined ? { bytes: patch.bytes } : {}),
    ...(patch.completed_at !== undefined ? { completed_at: patch.completed_at } : {}),
    ...(patch.upload_id !== undefined ? { upload_id: patch.upload_id } : {}),
    ...(patch.changed_files !== undefined ? { changed_files: patch.changed_files } : {}),
    ...(patch.failure_reason !== undefined ? { failure_reason: clampReason(patch.failure_reason) } : {}),
    ...(patch.index_bytes !== undefined ? { index_bytes: patch.index_bytes } : {}),
    ...(patch.verified_at !== undefined ? { verified_at: patch.verified_at } : {}),
    ...(patch.verification !== undefined ? { verification: patch.verification } : {}),
    ...(patch.snapshot_id !== undefined ? { snapshot_id: patch.snapshot_id } : {}),
    ...(patch.bytes_added !== undefined ? { bytes_added: patch.bytes_added } : {}),
    ...(patch.repository_size !== undefined ? { repository_size: patch.repository_size } : {}),
    updated_at: at,
  };
}

export class BackupsRepository {
  constructor(private readonly db: Executor) {}

  /**
   * The result of reading a stored archive back (issue 17). updated_at is left alone: a
   * verification is not an edit, and the report path's optimistic check must not trip on it.
   */
  async recordVerification(id: number, result: 'good' | 'damaged', reason: string | null, at: string): Promise<void> {
    await this.db.updateTable('backups')
      .set({ verified_at: at, verification: result, damage_reason: result === 'damaged' ? clampReason(reason) : null })
      .where('id', '=', id).execute();
  }

  /**
   * Successful live backups on `nodeId` never verified or last verified before `cutoff`, longest
   * ago first (never-verified first of all), at most `limit`.
   */
  async findDueForVerification(nodeId: number, cutoff: string, limit: number): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').innerJoin('servers', 'servers.id', 'backups.server_id').select(COLUMNS)
      .where('servers.node_id', '=', nodeId)
      .where('backups.deleted_at', 'is', null)
      .where('backups.is_successful', '=', 1)
      .where('backups.completed_at', 'is not', null)
      .where((eb) => eb.or([eb('backups.verified_at', 'is', null), eb('backups.verified_at', '<', cutoff)]))
      .orderBy((eb) => eb.case().when('backups.verified_at', 'is', null).then(0).else(1).end())
      .orderBy('backups.verified_at').orderBy('backups.completed_at').orderBy('backups.id')
      .limit(limit).execute();
  }

  /** True while any backup of a server on `nodeId` is running: scheduled verifications wait. */
  async nodeHasRunningBackup(nodeId: number): Promise<boolean> {
    const r = await this.db.selectFrom('backups').innerJoin('servers', 'servers.id', 'backups.server_id').select('backups.id')
      .where('servers.node_id', '=', nodeId).where('backups.deleted_at', 'is', null).where('backups.completed_at', 'is', null)
      .limit(1).executeTakeFirst();
    return r !== undefined;
  }

  async insert(b: NewBackupRow): Promise<BackupRow> {
    const r = await this.db.insertInto('backups').values({
      server_id: b.server_id, uuid: b.uuid, upload_id: null, is_successful: 0, is_locked: b.is_locked ? 1 : 0,
      name: b.name, ignored_files: JSON.stringify(b.ignored_files), disk: b.disk, checksum: null, bytes: 0,
      completed_at: null, created_at: b.at, updated_at: b.at, deleted_at: null, destination_id: b.destination_id ?? null, automatic: b.automatic ? 1 : 0, ignore_defaults: b.ignore_defaults ?? null, ignore_egg_defaults: b.ignore_egg_defaults ?? null,
    }).returning(COLUMNS).executeTakeFirstOrThrow();
    return r;
  }

  /** Includes soft-deleted rows (internal use only). */
  async findById(id: number): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').select(COLUMNS).where('backups.id', '=', id).executeTakeFirst();
  }

  /** A live (not soft-deleted) backup by uuid, any server. */
  async findLiveByUuid(uuid: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').select(COLUMNS).where('backups.uuid', '=', uuid.toLowerCase()).where('backups.deleted_at', 'is', null).executeTakeFirst();
  }

  /** Includes soft-deleted rows; tests and audits read deletions through this. */
  async findAnyByUuid(uuid: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').select(COLUMNS).where('backups.uuid', '=', uuid.toLowerCase()).executeTakeFirst();
  }

  async findLiveForServer(serverId: number, uuid: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').select(COLUMNS)
      .where('backups.server_id', '=', serverId).where('backups.uuid', '=', uuid.toLowerCase()).where('backups.deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** A page of live backups with their placement, and the server's totals. */
  async pageForServer(serverId: number, p: PageRequest): Promise<PlacedPage> {
    const found = await pageOfServer(this.db, serverId, p.perPage, offsetOf(p));
    // Totals came with the page (PostgreSQL), or an empty first page needs none; else one more query.
    const carried = found[0]?.total !== null && found[0]?.total !== undefined ? found[0] : undefined;
    const totals = carried ?? (found.length === 0 && p.page <= 1 ? undefined : (await totalsOfServer(this.db, serverId))[0]);
    // The row itself is the view row (its extra fields go unread): no copy per row.
    const rows = found.map((r) => ({ backup: r, destination: r.destination_name, copies: Number(r.copy_count) }));
    return { rows, total: Number(totals?.total ?? 0), backupCount: Number(totals?.counted ?? 0), backupBytes: Number(totals?.used ?? 0) };
  }

  /** All live backups of a server, oldest first (schedules' rotation, CLI listings). */
  async listAllForServer(serverId: number): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').select(COLUMNS)
      .where('backups.server_id', '=', serverId).where('backups.deleted_at', 'is', null)
      .orderBy('backups.created_at').orderBy('backups.id').execute();
  }

  /** Live backups that are in progress or successful: what counts against the limit. */
  /**
   * Storage a server's live successful backups take (issue 17's quota): all of them, the locked
   * ones (rotation cannot free those), and the newest one's size (what the next backup will need).
   */
  async storageUsage(serverId: number, exceptId?: number): Promise<{ used: number; locked: number; last: number }> {
    let q = this.db.selectFrom('backups').select(['backups.id', 'backups.bytes', 'backups.is_locked', 'backups.completed_at'])
      .where('backups.server_id', '=', serverId).where('backups.deleted_at', 'is', null)
      .where('backups.is_successful', '=', 1).where('backups.completed_at', 'is not', null);
    if (exceptId !== undefined) q = q.where('backups.id', '!=', exceptId);
    const rows = await q.orderBy('backups.completed_at', 'desc').orderBy('backups.id', 'desc').execute();
    let used = 0;
    let locked = 0;
    for (const r of rows) {
      used += Number(r.bytes);
      if (r.is_locked === 1) locked += Number(r.bytes);
    }
    return { used, locked, last: rows.length > 0 ? Number(rows[0]!.bytes) : 0 };
  }

  async countNonFailed(serverId: number): Promise<number> {
    const { n } = await this.db.selectFrom('backups').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('backups.server_id', '=', serverId).where('backups.deleted_at', 'is', null)
      .where((eb) => eb.or([eb('backups.completed_at', 'is', null), eb('backups.is_successful', '=', 1)]))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /**
   * Creation times of non-failed backups created at or after `since`, soft-deleted ones included:
   * deleting a backup must not hand throttle quota back.
   */
  async createdSince(serverId: number, since: string): Promise<string[]> {
    const rows = await this.db.selectFrom('backups').select('backups.created_at')
      .where('backups.server_id', '=', serverId).where('backups.created_at', '>=', since)
      .where((eb) => eb.or([eb('backups.completed_at', 'is', null), eb('backups.is_successful', '=', 1)]))
      .orderBy('backups.created_at').execute();
    return rows.map((r) => r.created_at);
  }

  async update(id: number, patch: BackupPatch, at: string): Promise<void> {
    await this.db.updateTable('backups').set(patchValues(patch, at)).where('id', '=', id).execute();
  }

  /** Optimistic update: applies only if the row was not changed since it was read. */
  async updateIfUnchanged(id: number, readUpdatedAt: string, patch: BackupPatch, at: string): Promise<boolean> {
    const r = await this.db.updateTable('backups').set(patchValues(patch, at)).where('id', '=', id).where('updated_at', '=', readUpdatedAt).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async softDelete(id: number, at: string): Promise<void> {
    await this.db.updateTable('backups').set({ deleted_at: at, updated_at: at }).where('id', '=', id).execute();
  }

  /**
   * Soft-deletes a live backup unless a lock protects it — any lock when `anyLock` (automatic
   * deletions), else only a lock on a completed successful backup (the client API's rule). Decided
   * in the UPDATE itself so a lock set after the row was read still wins. False when nothing changed.
   */
  async claimDeletion(id: number, at: string, anyLock: boolean): Promise<boolean> {
    let q = this.db.updateTable('backups').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('deleted_at', 'is', null);
    q = anyLock
      ? q.where('is_locked', '=', 0)
      : q.where((eb) => eb.or([eb('is_locked', '=', 0), eb('is_successful', '=', 0), eb('completed_at', 'is', null)]));
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Sets the lock of a live backup; false when it was deleted meanwhile. */
  async setLockIfLive(id: number, locked: boolean, at: string): Promise<boolean> {
    const r = await this.db.updateTable('backups').set({ is_locked: locked ? 1 : 0, updated_at: at })
      .where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async restoreSoftDeleted(id: number, at: string): Promise<void> {
    await this.db.updateTable('backups').set({ deleted_at: null, updated_at: at }).where('id', '=', id).execute();
  }

  /** Used only to undo an insert the daemon refused. */
  async hardDelete(id: number): Promise<void> {
    await this.db.deleteFrom('backups').where('id', '=', id).execute();
  }

  /** Live backups not yet completed, across all servers (metrics gauge). */
  async countInProgress(): Promise<number> {
    const { n } = await this.db.selectFrom('backups').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('backups.completed_at', 'is', null).where('backups.deleted_at', 'is', null).executeTakeFirstOrThrow();
    return Number(n);
  }

  async findStale(createdBefore: string): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').select(COLUMNS)
      .where('backups.completed_at', 'is', null).where('backups.deleted_at', 'is', null)
      .where('backups.created_at', '<=', createdBefore).orderBy('backups.id').execute();
  }

  /** Marks the given in-progress backups failed; rows completed meanwhile are left alone. */
  async markFailed(ids: number[], at: string, reason: string | null = null): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.db.updateTable('backups').set({ is_successful: 0, completed_at: at, updated_at: at, failure_reason: clampReason(reason) })
      .where('id', 'in', ids).where('completed_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Live backups of the given servers still in progress and created at or before `createdBefore`. */
  async findInProgressForServers(serverIds: number[], createdBefore: string): Promise<BackupRow[]> {
    if (serverIds.length === 0) return [];
    return this.db.selectFrom('backups').select(COLUMNS)
      .where('backups.server_id', 'in', serverIds).where('backups.completed_at', 'is', null).where('backups.deleted_at', 'is', null)
      .where('backups.created_at', '<=', createdBefore).orderBy('backups.id').execute();
  }

  /** Deleted backups of the given servers whose archive is not confirmed gone, deleted at or before `deletedBefore`. */
  async findUnpurged(serverIds: number[], deletedBefore: string): Promise<BackupRow[]> {
    if (serverIds.length === 0) return [];
    return this.db.selectFrom('backups').select(COLUMNS)
      .where('backups.server_id', 'in', serverIds).where('backups.deleted_at', 'is not', null).where('backups.purged_at', 'is', null)
      .where('backups.deleted_at', '<=', deletedBefore).orderBy('backups.id').execute();
  }

  /** Records that a deleted backup's archive is gone. False when it was not deleted (or already purged). */
  async markPurged(id: number, at: string): Promise<boolean> {
    const r = await this.db.updateTable('backups').set({ purged_at: at })
      .where('id', '=', id).where('deleted_at', 'is not', null).where('purged_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Rows (deleted ones too) for these uuids, any server: what the panel knows of a node's archives. */
  async findAnyByUuids(uuids: string[]): Promise<BackupRow[]> {
    const out: BackupRow[] = [];
    // Chunked: a node may hold thousands of archives and both databases cap bound parameters.
    for (let i = 0; i < uuids.length; i += 500) {
      const chunk = uuids.slice(i, i + 500).map((u) => u.toLowerCase());
      out.push(...(await this.db.selectFrom('backups').select(COLUMNS).where('backups.uuid', 'in', chunk).execute()));
    }
    return out;
  }
}
