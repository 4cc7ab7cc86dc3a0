/**
 * Tables added by migration 0002 (schedules, tasks, retention policies). Kept apart from schema.ts
 * so the scheduler's repositories can extend the core DB type with `withTables<ScheduleTables>()`.
 */
import type { Generated, Selectable } from 'kysely';
import type { Flag } from './schema.ts';

export interface SchedulesTable {
  id: Generated<number>;
  server_id: number;
  name: string;
  cron_minute: string;
  cron_hour: string;
  cron_day_of_month: string;
  cron_month: string;
  cron_day_of_week: string;
  is_active: Flag;
  is_processing: Flag;
  processing_started_at: string | null;
  only_when_online: Flag;
  last_run_at: string | null;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TasksTable {
  id: Generated<number>;
  schedule_id: number;
  sequence_id: number;
  action: string;
  payload: string;
  time_offset: number;
  continue_on_failure: Flag;
  is_queued: Flag;
  created_at: string;
  updated_at: string;
}

export interface RetentionPoliciesTable {
  id: Generated<number>;
  server_id: number;
  keep_last: number | null;
  keep_hourly: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
  applied_through: string | null;
  created_at: string;
  updated_at: string;
}

// A type alias, not an interface: withTables<T>() needs an index-compatible record type.
export type ScheduleTables = {
  schedules: SchedulesTable;
  tasks: TasksTable;
  retention_policies: RetentionPoliciesTable;
};

export type ScheduleRow = Selectable<SchedulesTable>;
export type TaskRow = Selectable<TasksTable>;
export type RetentionPolicyRow = Selectable<RetentionPoliciesTable>;
