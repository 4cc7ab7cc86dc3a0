import type { Kysely } from 'kysely';

/**
 * Issue 17, second part.
 * - `verification_leases`: one row per node; a panel process re-verifies a node's backups only while
 *   it holds the node's lease, so panels sharing a database never verify the same backup twice in a
 *   round and a node still sees one verification at a time.
 * - `eggs`: the game types servers are made from (Pterodactyl's egg id, its nest id and name), each
 *   with default ignore patterns every backup of its servers gets; `servers.egg_id` (null = none).
 * - `backups.ignore_egg_defaults`: the egg defaults a backup was made with (shown with the backup).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const ts = 'varchar(40)';
  await db.schema.createTable('verification_leases')
    .addColumn('node_id', 'integer', (c) => c.primaryKey().references('nodes.id').onDelete('cascade'))
    .addColumn('holder', 'varchar(64)')
    .addColumn('until', ts)
    .execute();
  await db.schema.createTable('eggs')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('nest_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'varchar(191)', (c) => c.notNull())
    .addColumn('backup_ignore', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.alterTable('servers').addColumn('egg_id', 'integer', (c) => c.references('eggs.id').onDelete('set null')).execute();
  await db.schema.alterTable('backups').addColumn('ignore_egg_defaults', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').dropColumn('ignore_egg_defaults').execute();
  await db.schema.alterTable('servers').dropColumn('egg_id').execute();
  await db.schema.dropTable('eggs').ifExists().execute();
  await db.schema.dropTable('verification_leases').ifExists().execute();
}
