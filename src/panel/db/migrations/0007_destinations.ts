import { sql, type Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

/**
 * Backup destinations (issue 15, Pelican's "Backup Hosts"): named places a backup goes (local on
 * the node, or an S3-compatible bucket), assigned per node and optionally per server. Every backup
 * records its own destination so changing a node's never orphans older backups. Copies (3-2-1) of
 * a completed backup to a destination's `copy_to_id` are tracked in `backup_copies`.
 *
 * The environment's APP_BACKUP_DRIVER/AWS_* settings become the default destination at the first
 * start after this migration (DestinationsService.importFromConfig): a migration cannot see them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const ts = 'varchar(40)';
  await withId(db.schema.createTable('destinations'), pg)
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
    // 'local' (the node's disk, Wings adapter) or 's3'; restic may add kinds.
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('endpoint', 'text')
    .addColumn('region', 'varchar(64)')
    .addColumn('bucket', 'varchar(255)')
    .addColumn('prefix', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('access_key_id', 'varchar(255)')
    // Sealed with the panel's APP_KEY (src/core/secret-box.ts); never returned by any API.
    .addColumn('secret_access_key', 'text')
    .addColumn('path_style', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('storage_class', 'varchar(64)')
    // First part size in bytes; null = BACKUP_MAX_PART_SIZE. Parts grow from it (src/wire/part-sizes.ts).
    .addColumn('part_size', 'bigint')
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    // Where each completed backup is copied to (3-2-1); null = no copy.
    .addColumn('copy_to_id', 'integer', (c) => c.references('destinations.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  // Exactly one default, even with several panels saving at once.
  await sql`CREATE UNIQUE INDEX destinations_one_default ON destinations (is_default) WHERE is_default = 1`.execute(db);

  await db.schema.alterTable('nodes').addColumn('destination_id', 'integer', (c) => c.references('destinations.id')).execute();
  await db.schema.alterTable('servers').addColumn('destination_id', 'integer', (c) => c.references('destinations.id')).execute();
  // null = the default destination (rows from before this migration; filled in at first start).
  await db.schema.alterTable('backups').addColumn('destination_id', 'integer', (c) => c.references('destinations.id')).execute();
  await db.schema.createIndex('backups_destination_index').on('backups').column('destination_id').execute();

  await withId(db.schema.createTable('backup_copies'), pg)
    .addColumn('backup_id', 'integer', (c) => c.notNull().references('backups.id').onDelete('cascade'))
    .addColumn('destination_id', 'integer', (c) => c.notNull().references('destinations.id'))
    // pending → copying → done | failed
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('checksum', 'varchar(191)')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_until', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addUniqueConstraint('backup_copies_backup_destination', ['backup_id', 'destination_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('backup_copies').ifExists().execute();
  await db.schema.dropIndex('backups_destination_index').ifExists().execute();
  await db.schema.alterTable('backups').dropColumn('destination_id').execute();
  await db.schema.alterTable('servers').dropColumn('destination_id').execute();
  await db.schema.alterTable('nodes').dropColumn('destination_id').execute();
  await db.schema.dropTable('destinations').ifExists().execute();
}
