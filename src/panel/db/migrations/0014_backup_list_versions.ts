import { sql, type Kysely } from 'kysely';
import { isPostgres } from './helpers.ts';

/**
 * A version per server of what its client API backup list shows (issue 15, docs/benchmarks.md):
 * triggers bump it in the same transaction as every change to the server's backups, their copies
 * or any destination, so a panel may keep a rendered list page for as long as the version it read
 * with the request's server row is the one the page was built at — never stale, on any panel.
 *
 * No foreign key: a server's deletion cascades to its backups, whose delete trigger bumps the
 * version of the server being deleted. A row left behind is harmless (pages are cached by the
 * server's uuid and version, and versions only grow).
 */
const BUMP_SQLITE = (server: string) => sql.raw(`INSERT INTO backup_list_versions (server_id, version) VALUES (${server}, 1) ON CONFLICT (server_id) DO UPDATE SET version = backup_list_versions.version + 1;`);
const BUMP_COPY_SQLITE = (backup: string) => sql.raw(`INSERT INTO backup_list_versions (server_id, version) SELECT server_id, 1 FROM backups WHERE id = ${backup} ON CONFLICT (server_id) DO UPDATE SET version = backup_list_versions.version + 1;`);
// A destination's name, kind or default status shows on every page (an unpinned backup reads the default).
const BUMP_ALL_SQLITE = sql.raw('INSERT INTO backup_list_versions (server_id, version) SELECT id, 1 FROM servers WHERE true ON CONFLICT (server_id) DO UPDATE SET version = backup_list_versions.version + 1;');

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('backup_list_versions')
    .addColumn('server_id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  if (isPostgres(db)) {
    await sql`CREATE FUNCTION backwing_bump_backup_list(server integer) RETURNS void LANGUAGE sql AS $$
      INSERT INTO backup_list_versions (server_id, version) VALUES (server, 1)
      ON CONFLICT (server_id) DO UPDATE SET version = backup_list_versions.version + 1 $$`.execute(db);
    await sql`CREATE FUNCTION backwing_backups_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM backwing_bump_backup_list(OLD.server_id); END IF;
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.server_id IS DISTINCT FROM OLD.server_id) THEN PERFORM backwing_bump_backup_list(NEW.server_id); END IF;
      RETURN NULL; END $$`.execute(db);
    await sql`CREATE FUNCTION backwing_backup_copies_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.backup_id IS DISTINCT FROM OLD.backup_id) THEN PERFORM backwing_bump_backup_list(b.server_id) FROM backups b WHERE b.id = OLD.backup_id; END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM backwing_bump_backup_list(b.server_id) FROM backups b WHERE b.id = NEW.backup_id; END IF;
      RETURN NULL; END $$`.execute(db);
    await sql`CREATE FUNCTION backwing_destinations_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO backup_list_versions (server_id, version) SELECT id, 1 FROM servers
      ON CONFLICT (server_id) DO UPDATE SET version = backup_list_versions.version + 1;
      RETURN NULL; END $$`.execute(db);
    await sql`CREATE TRIGGER backups_list_version AFTER INSERT OR UPDATE OR DELETE ON backups FOR EACH ROW EXECUTE FUNCTION backwing_backups_changed()`.execute(db);
    await sql`CREATE TRIGGER backup_copies_list_version AFTER INSERT OR UPDATE OR DELETE ON backup_copies FOR EACH ROW EXECUTE FUNCTION backwing_backup_copies_changed()`.execute(db);
    await sql`CREATE TRIGGER destinations_list_version AFTER INSERT OR UPDATE OR DELETE ON destinations FOR EACH STATEMENT EXECUTE FUNCTION backwing_destinations_changed()`.execute(db);
    return;
  }
  await sql`CREATE TRIGGER backups_list_version_insert AFTER INSERT ON backups BEGIN ${BUMP_SQLITE('NEW.server_id')} END`.execute(db);
  await sql`CREATE TRIGGER backups_list_version_update AFTER UPDATE ON backups BEGIN ${BUMP_SQLITE('NEW.server_id')} END`.execute(db);
  await sql`CREATE TRIGGER backups_list_version_move AFTER UPDATE OF server_id ON backups WHEN OLD.server_id IS NOT NEW.server_id BEGIN ${BUMP_SQLITE('OLD.server_id')} END`.execute(db);
  await sql`CREATE TRIGGER backups_list_version_delete AFTER DELETE ON backups BEGIN ${BUMP_SQLITE('OLD.server_id')} END`.execute(db);
  await sql`CREATE TRIGGER backup_copies_list_version_insert AFTER INSERT ON backup_copies BEGIN ${BUMP_COPY_SQLITE('NEW.backup_id')} END`.execute(db);
  await sql`CREATE TRIGGER backup_copies_list_version_update AFTER UPDATE ON backup_copies BEGIN ${BUMP_COPY_SQLITE('NEW.backup_id')} END`.execute(db);
  await sql`CREATE TRIGGER backup_copies_list_version_move AFTER UPDATE OF backup_id ON backup_copies WHEN OLD.backup_id IS NOT NEW.backup_id BEGIN ${BUMP_COPY_SQLITE('OLD.backup_id')} END`.execute(db);
  await sql`CREATE TRIGGER backup_copies_list_version_delete AFTER DELETE ON backup_copies BEGIN ${BUMP_COPY_SQLITE('OLD.backup_id')} END`.execute(db);
  for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
    await sql`CREATE TRIGGER ${sql.raw(`destinations_list_version_${op.toLowerCase()}`)} AFTER ${sql.raw(op)} ON destinations BEGIN ${BUMP_ALL_SQLITE} END`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`DROP TRIGGER IF EXISTS backups_list_version ON backups`.execute(db);
    await sql`DROP TRIGGER IF EXISTS backup_copies_list_version ON backup_copies`.execute(db);
    await sql`DROP TRIGGER IF EXISTS destinations_list_version ON destinations`.execute(db);
    for (const f of ['backwing_backups_changed()', 'backwing_backup_copies_changed()', 'backwing_destinations_changed()', 'backwing_bump_backup_list(integer)']) {
      await sql`DROP FUNCTION IF EXISTS ${sql.raw(f)}`.execute(db);
    }
  } else {
    for (const t of ['backups_list_version_insert', 'backups_list_version_update', 'backups_list_version_move', 'backups_list_version_delete', 'backup_copies_list_version_insert',
      'backup_copies_list_version_update', 'backup_copies_list_version_move', 'backup_copies_list_version_delete', 'destinations_list_version_insert', 'destinations_list_version_update', 'destinations_list_version_delete']) {
      await sql`DROP TRIGGER IF EXISTS ${sql.raw(t)}`.execute(db);
    }
  }
  await db.schema.dropTable('backup_list_versions').ifExists().execute();
}
