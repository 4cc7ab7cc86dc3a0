import type { Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

/**
 * Notifications (issue 13): owner-managed webhooks per server, and the durable queue every
 * notification (panel webhooks, server webhooks, e-mail) goes through. A delivery row is claimed
 * with a conditional UPDATE (`claimed_until`) so several panel processes send each one once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const ts = 'varchar(40)';
  await withId(db.schema.createTable('notification_webhooks'), pg)
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('server_id', 'integer', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    // Needed in clear to sign with; write-only in the API.
    .addColumn('secret', 'text')
    .addColumn('format', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notification_webhooks_server_index').on('notification_webhooks').column('server_id').execute();

  await withId(db.schema.createTable('notification_deliveries'), pg)
    .addColumn('event', 'varchar(40)', (c) => c.notNull())
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    // 'panel' (config destinations) or 'server' (webhook_id names the row, looked up at send time).
    .addColumn('scope', 'varchar(16)', (c) => c.notNull())
    .addColumn('webhook_id', 'integer')
    .addColumn('server_id', 'integer')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('format', 'varchar(16)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('claimed_by', 'varchar(64)')
    .addColumn('claimed_until', ts)
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notification_deliveries_due_index').on('notification_deliveries').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_deliveries').ifExists().execute();
  await db.schema.dropTable('notification_webhooks').ifExists().execute();
}
