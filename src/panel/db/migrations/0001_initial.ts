import type { Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const ts = 'varchar(40)';

  await withId(db.schema.createTable('users'), pg)
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('email', 'varchar(191)', (c) => c.notNull().unique())
    .addColumn('username', 'varchar(191)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('root_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('api_keys'), pg)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('identifier', 'varchar(16)', (c) => c.notNull().unique())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('memo', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_used_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('sessions'), pg)
    .addColumn('id_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('nodes'), pg)
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(191)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('daemon_token_id', 'varchar(16)', (c) => c.notNull().unique())
    .addColumn('daemon_token', 'text', (c) => c.notNull())
    .addColumn('maintenance', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('servers'), pg)
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('identifier', 'varchar(8)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(191)', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('node_id', 'integer', (c) => c.notNull().references('nodes.id'))
    .addColumn('status', 'varchar(32)')
    .addColumn('backup_limit', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable('subusers'), pg)
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('server_id', 'integer', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addUniqueConstraint('subusers_user_server_unique', ['user_id', 'server_id'])
    .execute();

  await withId(db.schema.createTable('backups'), pg)
    .addColumn('server_id', 'integer', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('upload_id', 'text')
    .addColumn('is_successful', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_locked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('ignored_files', 'text', (c) => c.notNull())
    .addColumn('disk', 'varchar(16)', (c) => c.notNull())
    .addColumn('checksum', 'varchar(191)')
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('completed_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('deleted_at', ts)
    .execute();
  await db.schema.createIndex('backups_server_id_index').on('backups').columns(['server_id', 'created_at']).execute();

  await withId(db.schema.createTable('activity_logs'), pg)
    .addColumn('batch', 'varchar(36)')
    .addColumn('event', 'varchar(191)', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('description', 'text')
    .addColumn('actor_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('api_key_id', 'integer', (c) => c.references('api_keys.id').onDelete('set null'))
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('timestamp', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('activity_logs_event_index').on('activity_logs').column('event').execute();

  await withId(db.schema.createTable('activity_log_subjects'), pg)
    .addColumn('activity_log_id', 'integer', (c) => c.notNull().references('activity_logs.id').onDelete('cascade'))
    .addColumn('subject_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('subject_id', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('activity_log_subjects_subject_index').on('activity_log_subjects').columns(['subject_type', 'subject_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['activity_log_subjects', 'activity_logs', 'backups', 'subusers', 'servers', 'nodes', 'sessions', 'api_keys', 'users']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
