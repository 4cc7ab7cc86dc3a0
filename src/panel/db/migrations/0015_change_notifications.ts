import { sql, type Kysely } from 'kysely';
import { isPostgres } from './helpers.ts';

/**
 * PostgreSQL: every committed change to a row that decides what a panel keeps in memory for the
 * client API (a key, its user, a subuser, a server, its node, a server's backup-list version:
 * db/change-feed.ts) NOTIFYs `backwing_changes`, so every panel drops what it kept at once
 * (issue 15: no database round trip per backup list in steady state, correct across panels).
 * Statement-level: one notification per statement (PostgreSQL folds repeats in a transaction),
 * delivered at commit. A key's last_used_at refresh decides nothing kept and notifies nothing.
 *
 * SQLite needs nothing: another connection's commit moves `PRAGMA data_version`.
 */
const TABLES: Array<{ table: string; update: string }> = [
  { table: 'api_keys', update: 'UPDATE OF id, user_id, key_type, identifier, token_hash' },
  { table: 'users', update: 'UPDATE' },
  { table: 'subusers', update: 'UPDATE' },
  { table: 'servers', update: 'UPDATE' },
  { table: 'nodes', update: 'UPDATE' },
  { table: 'backup_list_versions', update: 'UPDATE' },
];

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`CREATE FUNCTION backwing_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    PERFORM pg_notify('backwing_changes', TG_TABLE_NAME); RETURN NULL; END $$`.execute(db);
  for (const { table, update } of TABLES) {
    await sql`CREATE TRIGGER ${sql.raw(`${table}_notify_change`)} AFTER INSERT OR ${sql.raw(update)} OR DELETE OR TRUNCATE ON ${sql.raw(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION backwing_notify_change()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const { table } of TABLES) await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_notify_change`)} ON ${sql.raw(table)}`.execute(db);
  await sql`DROP FUNCTION IF EXISTS backwing_notify_change()`.execute(db);
}
