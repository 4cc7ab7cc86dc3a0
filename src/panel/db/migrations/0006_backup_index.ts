import type { Kysely } from 'kysely';

/**
 * Backup index (issue 14): `backups.index_bytes` is the size of the index the daemon wrote beside
 * the archive (`<uuid>.idx` locally, `<server>/<uuid>.idx` in S3); null = none reported (Wings,
 * older backwing, or its upload failed), and the first browse then builds one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').addColumn('index_bytes', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('backups').dropColumn('index_bytes').execute();
}
