import type { Kysely } from 'kysely';

/**
 * Verification, storage quotas and ignore defaults (issue 17).
 * - `backups.verified_at` / `verification` ('good' | 'damaged', null = never verified) /
 *   `damage_reason`: the last read-back of the stored archive. A damaged backup keeps its row and
 *   lock; only a person deletes it.
 * - `servers.backup_bytes_limit`: the storage quota beside the count limit (null = none), and
 *   `backups.automatic` (made by a schedule), which decides what a backup over quota does.
 * - `nodes.backup_ignore`: ignore patterns every backup on the node gets (newline-separated), and
 *   `backups.ignore_defaults`: the ones a backup was made with.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = 'varchar(40)';
  await db.schema.alterTable('backups').addColumn('verified_at', ts).execute();
  await db.schema.alterTable('backups').addColumn('verification', 'varchar(16)').execute();
  await db.schema.alterTable('backups').addColumn('damage_reason', 'text').execute();
  // The scheduler asks for the backups verified longest ago.
  await db.schema.createIndex('backups_verified_index').on('backups').columns(['verified_at']).execute();
  // 1 = made by a schedule: over the storage quota at completion it rotates older backups, a manual one fails.
  await db.schema.alterTable('backups').addColumn('automatic', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('servers').addColumn('backup_bytes_limit', 'bigint').execute();
  await db.schema.alterTable('nodes').addColumn('backup_ignore', 'text').execute();
  // The node defaults a backup was made with, as sent (so its details show every source).
  await db.schema.alterTable('backups').addColumn('ignore_defaults', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').dropColumn('ignore_defaults').execute();
  await db.schema.alterTable('nodes').dropColumn('backup_ignore').execute();
  await db.schema.alterTable('servers').dropColumn('backup_bytes_limit').execute();
  await db.schema.alterTable('backups').dropColumn('automatic').execute();
  await db.schema.dropIndex('backups_verified_index').ifExists().execute();
  await db.schema.alterTable('backups').dropColumn('damage_reason').execute();
  await db.schema.alterTable('backups').dropColumn('verification').execute();
  await db.schema.alterTable('backups').dropColumn('verified_at').execute();
}
