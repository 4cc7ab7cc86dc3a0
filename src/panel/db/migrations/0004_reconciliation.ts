import type { Kysely } from 'kysely';

/**
 * Reconciliation (issue 12): the panel's intents are rows it writes before it acts, and the
 * reconciler compares them with what each daemon holds.
 * - `backups.failure_reason`: why a backup failed (the daemon's report, the reconciler, the prune).
 * - `backups.purged_at`: set once a deleted backup's archive is gone. `deleted_at` set and
 *   `purged_at` null is a delete that has not finished (the process died between the two writes,
 *   or the storage refused): the reconciler finishes it.
 * - `reconcile_leases`: one row per node; a panel process reconciles a node only while it holds
 *   the lease, so several panels on one database do not do the same work twice.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = 'varchar(40)';
  await db.schema.alterTable('backups').addColumn('failure_reason', 'text').execute();
  await db.schema.alterTable('backups').addColumn('purged_at', ts).execute();
  // Deletes before this migration either finished or put the row back, so every deleted row is purged.
  await db.updateTable('backups').set((eb: any) => ({ purged_at: eb.ref('deleted_at') })).where('deleted_at', 'is not', null).execute();
  await db.schema.createIndex('backups_unpurged_index').on('backups').columns(['deleted_at', 'purged_at']).execute();

  await db.schema.createTable('reconcile_leases')
    .addColumn('node_id', 'integer', (c) => c.primaryKey().references('nodes.id').onDelete('cascade'))
    .addColumn('holder', 'varchar(64)')
    .addColumn('until', ts)
    .addColumn('last_run_at', ts)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reconcile_leases').ifExists().execute();
  await db.schema.dropIndex('backups_unpurged_index').ifExists().execute();
  await db.schema.alterTable('backups').dropColumn('purged_at').execute();
  await db.schema.alterTable('backups').dropColumn('failure_reason').execute();
}
