import type { Kysely } from 'kysely';
import { isPostgres, withId } from './helpers.ts';

/** Schedules, their tasks, and per-server retention policies (see src/panel/db/schedules.schema.ts). */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const ts = 'varchar(40)';

  await withId(db.schema.createTable('schedules'), pg)
    .addColumn('server_id', 'integer', (c) => c.notNull().references('servers.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('cron_minute', 'varchar(191)', (c) => c.notNull())
    .addColumn('cron_hour', 'varchar(191)', (c) => c.notNull())
    .addColumn('cron_day_of_month', 'varchar(191)', (c) => c.notNull())
    .addColumn('cron_month', 'varchar(191)', (c) => c.notNull())
    .addColumn('cron_day_of_week', 'varchar(191)', (c) => c.notNull())
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('is_processing', 'integer', (c) => c.notNull().defaultTo(0))
    // When the current run was claimed: a run whose panel process died is reclaimable after a while.
    .addColumn('processing_started_at', ts)
    .addColumn('only_when_online', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_run_at', ts)
    .addColumn('next_run_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('schedules_due_index').on('schedules').columns(['is_active', 'next_run_at']).execute();
  await db.schema.createIndex('schedules_server_index').on('schedules').column('server_id').execute();

  await withId(db.schema.createTable('tasks'), pg)
    .addColumn('schedule_id', 'integer', (c) => c.notNull().references('schedules.id').onDelete('cascade'))
    .addColumn('sequence_id', 'integer', (c) => c.notNull())
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('time_offset', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('continue_on_failure', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_queued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tasks_schedule_index').on('tasks').columns(['schedule_id', 'sequence_id']).execute();

  await withId(db.schema.createTable('retention_policies'), pg)
    .addColumn('server_id', 'integer', (c) => c.notNull().unique().references('servers.id').onDelete('cascade'))
    .addColumn('keep_last', 'integer')
    .addColumn('keep_hourly', 'integer')
    .addColumn('keep_daily', 'integer')
    .addColumn('keep_weekly', 'integer')
    .addColumn('keep_monthly', 'integer')
    // Newest completed_at the policy has been applied for; the scheduler applies the policy again
    // only when a newer successful backup exists, and claims that with a conditional UPDATE.
    .addColumn('applied_through', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['retention_policies', 'tasks', 'schedules']) await db.schema.dropTable(t).ifExists().execute();
}
