import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { BackupCopyRow, DestinationRow, DestinationsTable, DestinationTables } from '../db/destinations.schema.ts';

export type NewDestination = Omit<DestinationsTable, 'id' | 'restic_repository' | 'restic_password'> & Partial<Pick<DestinationsTable, 'restic_repository' | 'restic_password'>>;
export type DestinationPatch = Partial<Omit<DestinationsTable, 'id' | 'uuid' | 'created_at' | 'is_default'>> & { updated_at: string };

/** Backup destinations, their assignment to nodes and servers, and the copies made to them. */
export class DestinationsRepository {
  private readonly db: Kysely<DB & DestinationTables>;

  constructor(db: Executor) {
    this.db = db.withTables<DestinationTables>();
  }

  async list(): Promise<DestinationRow[]> {
    return this.db.selectFrom('destinations').selectAll().orderBy('id').execute();
  }

  async findById(id: number): Promise<DestinationRow | undefined> {
    return this.db.selectFrom('destinations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByUuid(uuid: string): Promise<DestinationRow | undefined> {
    return this.db.selectFrom('destinations').selectAll().where('uuid', '=', uuid.toLowerCase()).executeTakeFirst();
  }

  async findByName(name: string): Promise<DestinationRow | undefined> {
    return this.db.selectFrom('destinations').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /**
   * Where a new backup of a server goes, in one query (it was three on every backup creation): the
   * server's override, else its node's, else the default.
   */
  async assignedTo(serverId: number, nodeId: number): Promise<(DestinationRow & { explicit: boolean }) | undefined> {
    const server = sql<number | null>`(select s.destination_id from servers s where s.id = ${serverId})`;
    const node = sql<number | null>`(select n.destination_id from nodes n where n.id = ${nodeId})`;
    const row = await this.db.selectFrom('destinations').selectAll()
      // Whether the server or its node names one (else it is the default): a node's restic
      // setting applies only then (docs/restic.md).
      .select(sql<number>`case when coalesce(${server}, ${node}) is null then 0 else 1 end`.as('explicit'))
      .where('id', '=', sql<number>`coalesce(${server}, ${node}, (select d.id from destinations d where d.is_default = 1))`)
      .executeTakeFirst();
    return row ? { ...row, explicit: Number(row.explicit) === 1 } : undefined;
  }

  /** A restic destination already holding this repository (its password is the repository's). */
  async findByResticRepository(repository: string): Promise<DestinationRow | undefined> {
    return this.db.selectFrom('destinations').selectAll().where('kind', '=', 'restic').where('restic_repository', '=', repository).orderBy('id').executeTakeFirst();
  }

  /** Sealed restic passwords as stored, for `admin key rotate`. */
  async storedResticPasswords(): Promise<Array<{ id: number; value: string }>> {
    const rows = await this.db.selectFrom('destinations').select(['id', 'restic_password']).where('restic_password', 'is not', null).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, value: r.restic_password! }));
  }

  async setStoredResticPassword(id: number, sealed: string): Promise<void> {
    await this.db.updateTable('destinations').set({ restic_password: sealed }).where('id', '=', id).execute();
  }

  async findDefault(): Promise<DestinationRow | undefined> {
    return this.db.selectFrom('destinations').selectAll().where('is_default', '=', 1).executeTakeFirst();
  }

  async insert(v: NewDestination): Promise<DestinationRow> {
    await this.db.insertInto('destinations').values(v).execute();
    return (await this.findByUuid(v.uuid))!;
  }

  async update(id: number, patch: DestinationPatch): Promise<void> {
    await this.db.updateTable('destinations').set(patch).where('id', '=', id).execute();
  }

  /** Moves the default flag (two statements: the partial unique index allows one default at a time). */
  /** Sealed S3 secrets as stored, for `admin key rotate`. */
  async storedSecrets(): Promise<Array<{ id: number; secret_access_key: string }>> {
    const rows = await this.db.selectFrom('destinations').select(['id', 'secret_access_key']).where('secret_access_key', 'is not', null).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, secret_access_key: r.secret_access_key! }));
  }

  async setStoredSecret(id: number, sealed: string): Promise<void> {
    await this.db.updateTable('destinations').set({ secret_access_key: sealed }).where('id', '=', id).execute();
  }

  async makeDefault(id: number, at: string): Promise<void> {
    await this.db.updateTable('destinations').set({ is_default: 0, updated_at: at }).where('is_default', '=', 1).where('id', '!=', id).execute();
    await this.db.updateTable('destinations').set({ is_default: 1, updated_at: at }).where('id', '=', id).execute();
  }

  /** Purged backups keep no archive there; they let go of the row (null) so it can be deleted. */
  async delete(id: number): Promise<void> {
    await this.db.updateTable('backups').set({ destination_id: null }).where('destination_id', '=', id).where('purged_at', 'is not', null).execute();
    await this.db.deleteFrom('destinations').where('id', '=', id).execute();
  }

  /** Backups whose archive (or a copy) still lives there: not deleted, or deleted but not purged. */
  async countBackupsUsing(id: number): Promise<number> {
    const own = await this.db.selectFrom('backups').select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('destination_id', '=', id).where('purged_at', 'is', null).executeTakeFirstOrThrow();
    const copies = await this.db.selectFrom('backup_copies').select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('destination_id', '=', id).executeTakeFirstOrThrow();
    return Number(own.n) + Number(copies.n);
  }

  async namesOfNodesUsing(id: number): Promise<string[]> {
    return (await this.db.selectFrom('nodes').select('name').where('destination_id', '=', id).orderBy('id').execute()).map((r) => r.name);
  }

  async countServersUsing(id: number): Promise<number> {
    const r = await this.db.selectFrom('servers').select((eb) => eb.fn.countAll<string | number>().as('n')).where('destination_id', '=', id).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async namesCopyingTo(id: number): Promise<string[]> {
    return (await this.db.selectFrom('destinations').select('name').where('copy_to_id', '=', id).orderBy('id').execute()).map((r) => r.name);
  }

  /** Backups from before destinations existed (null) are pinned to the destination that held them. */
  async pinUnassignedBackups(id: number): Promise<number> {
    const r = await this.db.updateTable('backups').set({ destination_id: id }).where('destination_id', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** At import: rows of one adapter go to the destination made from its settings. */
  async pinBackupsByDisk(disk: string, id: number): Promise<void> {
    await this.db.updateTable('backups').set({ destination_id: id }).where('destination_id', 'is', null).where('disk', '=', disk).execute();
  }

  async assignNode(nodeId: number, destinationId: number | null, at: string): Promise<void> {
    await this.db.updateTable('nodes').set({ destination_id: destinationId, updated_at: at }).where('id', '=', nodeId).execute();
  }

  async assignServer(serverId: number, destinationId: number | null, at: string): Promise<void> {
    await this.db.updateTable('servers').set({ destination_id: destinationId, updated_at: at }).where('id', '=', serverId).execute();
  }

  /** Every node with the destination assigned to it (null = the default). */
  async nodeAssignments(): Promise<Array<{ id: number; name: string; destination_id: number | null }>> {
    return this.db.selectFrom('nodes').select(['id', 'name', 'destination_id']).orderBy('id').execute();
  }

  /** The servers whose own destination overrides their node's. */
  async serverOverrides(): Promise<Array<{ id: number; uuid: string; identifier: string; name: string; node_id: number; destination_id: number | null }>> {
    return this.db.selectFrom('servers').select(['id', 'uuid', 'identifier', 'name', 'node_id', 'destination_id']).where('destination_id', 'is not', null).orderBy('id').execute();
  }

  // ---- copies ----

  async copiesOf(backupIds: number[]): Promise<BackupCopyRow[]> {
    if (backupIds.length === 0) return [];
    return this.db.selectFrom('backup_copies').selectAll().where('backup_id', 'in', backupIds).orderBy('id').execute();
  }

  /** Queues a copy once (a repeated completion report queues nothing new). */
  async queueCopy(backupId: number, destinationId: number, at: string): Promise<void> {
    await this.db.insertInto('backup_copies')
      .values({ backup_id: backupId, destination_id: destinationId, status: 'pending', checksum: null, error: null, attempts: 0, claimed_until: null, created_at: at, updated_at: at })
      .onConflict((oc) => oc.columns(['backup_id', 'destination_id']).doNothing())
      .execute();
  }

  /** Takes one due copy for `leaseUntil` (conditional UPDATE: several panels copy each backup once). */
  async claimCopy(now: string, leaseUntil: string): Promise<BackupCopyRow | undefined> {
    const due = await this.db.selectFrom('backup_copies').selectAll()
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'copying'), eb('claimed_until', '<', now)])]))
      .orderBy('id').limit(5).execute();
    for (const c of due) {
      const r = await this.db.updateTable('backup_copies').set({ status: 'copying', claimed_until: leaseUntil, attempts: c.attempts + 1, updated_at: now })
        .where('id', '=', c.id).where('updated_at', '=', c.updated_at).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) return (await this.db.selectFrom('backup_copies').selectAll().where('id', '=', c.id).executeTakeFirst())!;
    }
    return undefined;
  }

  async finishCopy(id: number, patch: { status: 'done' | 'failed' | 'pending'; checksum?: string | null; error?: string | null }, at: string): Promise<void> {
    await this.db.updateTable('backup_copies').set({ status: patch.status, checksum: patch.checksum ?? null, error: patch.error ?? null, claimed_until: null, updated_at: at }).where('id', '=', id).execute();
  }

  async deleteCopy(id: number): Promise<void> {
    await this.db.deleteFrom('backup_copies').where('id', '=', id).execute();
  }
}
