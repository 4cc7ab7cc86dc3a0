import type { Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

/**
 * Server control (docs/server-control.md): each server's save hook as its owner chose it, and per
 * backup the files that changed while it was read (JSON `{count, names}`, null = not reported).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  await withId(db.schema.createTable('server_save_hooks'), pg)
    .addColumn('server_id', 'integer', (c) => c.notNull().unique().references('servers.id').onDelete('cascade'))
    .addColumn('preset', 'varchar(32)', (c) => c.notNull())
    // JSON arrays of console commands; only the custom preset has any.
    .addColumn('before_commands', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('after_commands', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('backups').addColumn('changed_files', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').dropColumn('changed_files').execute();
  await db.schema.dropTable('server_save_hooks').ifExists().execute();
}
