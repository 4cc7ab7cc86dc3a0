import type { Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

/**
 * Upkeep of restic destinations (issue 16, docs/restic.md): one row per repository a restic
 * destination has, with node_restic's prune counter and check result. A path repository is a
 * separate repository on each node (repository_key `<destination id>:<node id>`); an `s3:`
 * repository is one repository (key `<destination id>`), kept through one node that holds backups.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const ts = 'varchar(40)';
  await withId(db.schema.createTable('destination_restic_upkeep'), pg)
    .addColumn('repository_key', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('destination_id', 'integer', (c) => c.notNull().references('destinations.id').onDelete('cascade'))
    // The node prune and check run through.
    .addColumn('node_id', 'integer', (c) => c.notNull().references('nodes.id').onDelete('cascade'))
    .addColumn('forgotten_since_prune', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_prune_at', ts)
    .addColumn('last_check_at', ts)
    .addColumn('last_check_ok', 'integer')
    .addColumn('last_check_message', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('destination_restic_upkeep_destination').on('destination_restic_upkeep').column('destination_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('destination_restic_upkeep').ifExists().execute();
}
