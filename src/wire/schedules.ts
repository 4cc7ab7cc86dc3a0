/**
 * Schedules, tasks and retention policies in the client API. Schedules and tasks follow
 * Pterodactyl's transformers field for field; retention is a backwing extension.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from './client-api.ts';

export const SCHEDULE_PERMISSIONS = ['schedule.create', 'schedule.read', 'schedule.update', 'schedule.delete'] as const;
export type SchedulePermission = (typeof SCHEDULE_PERMISSIONS)[number];

/** Upstream's task actions. Backwing manages no game process, so only `backup` is executable. */
export const TASK_ACTIONS = ['command', 'power', 'backup'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export const MAX_TIME_OFFSET_SECONDS = 900;

export const TaskAttributes = Type.Object({
  id: Type.Integer(),
  sequence_id: Type.Integer(),
  action: Type.String(),
  /** For a backup task: newline-separated ignore patterns ("" = the server's default ignore file). */
  payload: Type.String(),
  time_offset: Type.Integer(),
  is_queued: Type.Boolean(),
  continue_on_failure: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Nullable(Type.String()),
});
export type TaskAttributes = Static<typeof TaskAttributes>;

export const TaskObject = Type.Object({
  object: Type.Literal('schedule_task'),
  attributes: TaskAttributes,
});
export type TaskObject = Static<typeof TaskObject>;

export const CronAttributes = Type.Object({
  day_of_week: Type.String(),
  day_of_month: Type.String(),
  month: Type.String(),
  hour: Type.String(),
  minute: Type.String(),
});
/** Pterodactyl's five cron fields, kept as the strings the user typed. */
export type CronFields = Static<typeof CronAttributes>;

export const ScheduleAttributes = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  cron: CronAttributes,
  is_active: Type.Boolean(),
  is_processing: Type.Boolean(),
  /** Stored and echoed; backwing has no power state, so such schedules run like any other. */
  only_when_online: Type.Boolean(),
  last_run_at: Nullable(Type.String()),
  next_run_at: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Nullable(Type.String()),
  relationships: Type.Object({
    tasks: Type.Object({ object: Type.Literal('list'), data: Type.Array(TaskObject) }),
  }),
});
export type ScheduleAttributes = Static<typeof ScheduleAttributes>;

export const ScheduleObject = Type.Object({
  object: Type.Literal('server_schedule'),
  attributes: ScheduleAttributes,
});
export type ScheduleObject = Static<typeof ScheduleObject>;

export const ScheduleList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(ScheduleObject),
});
export type ScheduleList = Static<typeof ScheduleList>;

/**
 * Bodies are validated by the schedule service (Laravel-style rules, one 422 entry per failed rule
 * with meta.rule / meta.source_field), so these schemas only document the fields.
 */
export const ScheduleBody = Type.Object({
  name: Type.Optional(Type.Unknown()),
  minute: Type.Optional(Type.Unknown()),
  hour: Type.Optional(Type.Unknown()),
  day_of_month: Type.Optional(Type.Unknown()),
  month: Type.Optional(Type.Unknown()),
  day_of_week: Type.Optional(Type.Unknown()),
  is_active: Type.Optional(Type.Unknown()),
  only_when_online: Type.Optional(Type.Unknown()),
});
export const TaskBody = Type.Object({
  action: Type.Optional(Type.Unknown()),
  payload: Type.Optional(Type.Unknown()),
  time_offset: Type.Optional(Type.Unknown()),
  sequence_id: Type.Optional(Type.Unknown()),
  continue_on_failure: Type.Optional(Type.Unknown()),
});

/** Each rule: null or 0 = off; otherwise how many backups/buckets to keep (restic `forget`). */
export const RetentionPolicyAttributes = Type.Object({
  keep_last: Nullable(Type.Integer({ minimum: 0 })),
  keep_hourly: Nullable(Type.Integer({ minimum: 0 })),
  keep_daily: Nullable(Type.Integer({ minimum: 0 })),
  keep_weekly: Nullable(Type.Integer({ minimum: 0 })),
  keep_monthly: Nullable(Type.Integer({ minimum: 0 })),
});
export type RetentionPolicyAttributes = Static<typeof RetentionPolicyAttributes>;

export const RetentionPolicyObject = Type.Object({
  object: Type.Literal('backup_retention_policy'),
  attributes: Type.Intersect([RetentionPolicyAttributes, Type.Object({ updated_at: Nullable(Type.String()) })]),
});
export type RetentionPolicyObject = Static<typeof RetentionPolicyObject>;

export const RetentionPolicyBody = Type.Object({
  keep_last: Type.Optional(Type.Unknown()),
  keep_hourly: Type.Optional(Type.Unknown()),
  keep_daily: Type.Optional(Type.Unknown()),
  keep_weekly: Type.Optional(Type.Unknown()),
  keep_monthly: Type.Optional(Type.Unknown()),
});

export const RetentionPreviewEntry = Type.Object({
  uuid: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  is_successful: Type.Boolean(),
  is_locked: Type.Boolean(),
  completed_at: Nullable(Type.String()),
  /** keep: why it stays (locked, in-progress, failed-latest, no-policy, last, hourly, daily, weekly, monthly); remove: policy | failed-superseded. */
  reasons: Type.Array(Type.String()),
});

/** `POST .../backups/retention/preview`: the dry run. Body = a policy to try (absent = the saved one). */
export const RetentionPreview = Type.Object({
  object: Type.Literal('backup_retention_preview'),
  attributes: Type.Object({
    policy: RetentionPolicyAttributes,
    keep: Type.Array(RetentionPreviewEntry),
    remove: Type.Array(RetentionPreviewEntry),
  }),
});
export type RetentionPreview = Static<typeof RetentionPreview>;

/** Activity events written by schedules and automatic backup housekeeping (no actor). */
export const SCHEDULE_ACTIVITY_EVENTS = [
  'server:schedule.create',
  'server:schedule.update',
  'server:schedule.delete',
  'server:schedule.execute',
  'server:schedule.failed',
  'server:task.create',
  'server:task.update',
  'server:task.delete',
  'server:backup.rotate',
  'server:backup.retention-delete',
  'server:backup.retention-failed',
  'server:backup.retention-update',
] as const;
