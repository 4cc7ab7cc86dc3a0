import type { Kysely } from 'kysely';

/**
 * restic as a destination kind (issue 16, docs/restic.md): a `restic` destination holds a
 * repository (a path on the node, or restic's `s3:<endpoint>/<bucket>[/<prefix>]`, whose keys are
 * the destination's access_key_id / secret_access_key / region) and its generated password, sealed
 * with APP_KEY like the S3 secret. Null for local and s3 destinations.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('destinations').addColumn('restic_repository', 'text').execute();
  await db.schema.alterTable('destinations').addColumn('restic_password', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('destinations').dropColumn('restic_password').execute();
  await db.schema.alterTable('destinations').dropColumn('restic_repository').execute();
}
