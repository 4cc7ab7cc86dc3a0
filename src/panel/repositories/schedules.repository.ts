import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Executor } from '../db/database.ts';
import type { ScheduleRow, ScheduleTables, TaskRow } from '../db/schedules.schema.ts';

const SCHEDULE_COLUMNS = ['schedules.id', 'schedules.server_id', 'schedules.name', 'schedules.cron_minute', 'schedules.cron_hour', 'schedules.cron_day_of_month', 'schedules.cron_month', 'schedules.cron_day_of_week', 'schedules.is_active', 'schedules.is_processing', 'schedules.processing_started_at', 'schedules.only_when_online', 'schedules.last_run_at', 'schedules.next_run_at', 'schedules.created_at', 'schedules.updated_at'] as const;
const TASK_COLUMNS = ['tasks.id', 'tasks.schedule_id', 'tasks.sequence_id', 'tasks.action', 'tasks.payload', 'tasks.time_offset', 'tasks.continue_on_failure', 'tasks.is_queued', 'tasks.created_at', 'tasks.updated_at'] as const;

export interface ScheduleValues {
  name: string;
  cron_minute: string;
  cron_hour: string;
  cron_day_of_month: string;
  cron_month: string;
  cron_day_of_week: string;
  is_active: boolean;
  only_when_online: boolean;
  next_run_at: string | null;
}

export interface TaskValues {
  sequence_id: number;
  action: string;
  payload: string;
  time_offset: number;
  continue_on_failure: boolean;
}

const flag = (b: boolean) => (b ? 1 : 0);

/** Schedules and their tasks (one table group). */
export class SchedulesRepository {
  private readonly db: Kysely<DB & ScheduleTables>;

  constructor(db: Executor) {
    this.db = db.withTables<ScheduleTables>();
  }

  async insert(serverId: number, v: ScheduleValues, at: string): Promise<ScheduleRow> {
    const r = await this.db.insertInto('schedules').values({
      server_id: serverId, name: v.name, cron_minute: v.cron_minute, cron_hour: v.cron_hour, cron_day_of_month: v.cron_day_of_month,
      cron_month: v.cron_month, cron_day_of_week: v.cron_day_of_week, is_active: flag(v.is_active), is_processing: 0, processing_started_at: null,
      only_when_online: flag(v.only_when_online), last_run_at: null, next_run_at: v.next_run_at, created_at: at, updated_at: at,
    }).returning('id').executeTakeFirstOrThrow();
    return (await this.findById(r.id))!;
  }

  async findById(id: number): Promise<ScheduleRow | undefined> {
    return this.db.selectFrom('schedules').select(SCHEDULE_COLUMNS).where('schedules.id', '=', id).executeTakeFirst();
  }

  async findForServer(serverId: number, id: number): Promise<ScheduleRow | undefined> {
    return this.db.selectFrom('schedules').select(SCHEDULE_COLUMNS).where('schedules.server_id', '=', serverId).where('schedules.id', '=', id).executeTakeFirst();
  }

  async listForServer(serverId: number): Promise<ScheduleRow[]> {
    return this.db.selectFrom('schedules').select(SCHEDULE_COLUMNS).where('schedules.server_id', '=', serverId).orderBy('schedules.id').execute();
  }

  /** Changes the definition; a changed is_active also clears a stuck processing flag, as upstream does. */
  async update(id: number, v: ScheduleValues & { reset_processing: boolean }, at: string): Promise<void> {
    await this.db.updateTable('schedules').set({
      name: v.name, cron_minute: v.cron_minute, cron_hour: v.cron_hour, cron_day_of_month: v.cron_day_of_month, cron_month: v.cron_month,
      cron_day_of_week: v.cron_day_of_week, is_active: flag(v.is_active), only_when_online: flag(v.only_when_online), next_run_at: v.next_run_at,
      ...(v.reset_processing ? { is_processing: 0, processing_started_at: null } : {}),
      updated_at: at,
    }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('schedules').where('id', '=', id).execute();
  }

  /**
   * Active schedules whose next run is due. A schedule still marked processing is skipped unless
   * its run started before `staleBefore` (the process running it died).
   */
  async listDue(now: string, staleBefore: string): Promise<ScheduleRow[]> {
    return this.db.selectFrom('schedules').select(SCHEDULE_COLUMNS)
      .where('schedules.is_active', '=', 1).where('schedules.next_run_at', '<=', now)
      .where((eb) => eb.or([eb('schedules.is_processing', '=', 0), eb('schedules.processing_started_at', '<=', staleBefore)]))
      .orderBy('schedules.next_run_at').orderBy('schedules.id').execute();
  }

  /**
   * Claims one due run. The WHERE repeats what the claimer saw (`next_run_at = due`), so of several
   * panel processes racing on the same row exactly one UPDATE matches; the row count decides who
   * runs. Moving next_run_at in the same statement is what makes a missed window fire only once.
   */
  async claimDue(id: number, due: string, next: string, at: string, staleBefore: string): Promise<boolean> {
    const r = await this.db.updateTable('schedules')
      .set({ next_run_at: next, is_processing: 1, processing_started_at: at, updated_at: at })
      .where('id', '=', id).where('is_active', '=', 1).where('next_run_at', '=', due)
      .where((eb) => eb.or([eb('is_processing', '=', 0), eb('processing_started_at', '<=', staleBefore)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Claims a manual run ("execute now"); refuses while another run is in progress. */
  async claimManual(id: number, at: string, staleBefore: string): Promise<boolean> {
    const r = await this.db.updateTable('schedules')
      .set({ is_processing: 1, processing_started_at: at, updated_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('is_processing', '=', 0), eb('processing_started_at', '<=', staleBefore)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async finishRun(id: number, at: string): Promise<void> {
    await this.db.updateTable('schedules').set({ is_processing: 0, processing_started_at: null, last_run_at: at, updated_at: at }).where('id', '=', id).execute();
  }

  // ---- tasks ----

  async listTasks(scheduleIds: number[]): Promise<TaskRow[]> {
    if (scheduleIds.length === 0) return [];
    return this.db.selectFrom('tasks').select(TASK_COLUMNS).where('tasks.schedule_id', 'in', scheduleIds)
      .orderBy('tasks.schedule_id').orderBy('tasks.sequence_id').orderBy('tasks.id').execute();
  }

  async findTask(scheduleId: number, id: number): Promise<TaskRow | undefined> {
    return this.db.selectFrom('tasks').select(TASK_COLUMNS).where('tasks.schedule_id', '=', scheduleId).where('tasks.id', '=', id).executeTakeFirst();
  }

  async countTasks(scheduleId: number): Promise<{ count: number; maxSequence: number }> {
    const r = await this.db.selectFrom('tasks')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max<number | null>('tasks.sequence_id').as('m')])
      .where('tasks.schedule_id', '=', scheduleId).executeTakeFirstOrThrow();
    return { count: Number(r.n), maxSequence: Number(r.m ?? 0) };
  }

  /** Makes room at `from`: every task at or after it moves one step later. */
  async shiftSequences(scheduleId: number, from: number, at: string, exceptTaskId?: number): Promise<void> {
    let q = this.db.updateTable('tasks').set((eb) => ({ sequence_id: eb('sequence_id', '+', 1), updated_at: at }))
      .where('schedule_id', '=', scheduleId).where('sequence_id', '>=', from);
    if (exceptTaskId !== undefined) q = q.where('id', '!=', exceptTaskId);
    await q.execute();
  }

  async insertTask(scheduleId: number, v: TaskValues, at: string): Promise<TaskRow> {
    const r = await this.db.insertInto('tasks').values({
      schedule_id: scheduleId, sequence_id: v.sequence_id, action: v.action, payload: v.payload, time_offset: v.time_offset,
      continue_on_failure: flag(v.continue_on_failure), is_queued: 0, created_at: at, updated_at: at,
    }).returning('id').executeTakeFirstOrThrow();
    return (await this.findTask(scheduleId, r.id))!;
  }

  async updateTask(id: number, v: TaskValues, at: string): Promise<void> {
    await this.db.updateTable('tasks').set({
      sequence_id: v.sequence_id, action: v.action, payload: v.payload, time_offset: v.time_offset,
      continue_on_failure: flag(v.continue_on_failure), updated_at: at,
    }).where('id', '=', id).execute();
  }

  async deleteTask(id: number): Promise<void> {
    await this.db.deleteFrom('tasks').where('id', '=', id).execute();
  }

  /** Closes the gap a deleted task leaves, as upstream does. */
  async compactAfterDelete(scheduleId: number, removedSequence: number, at: string): Promise<void> {
    await this.db.updateTable('tasks').set((eb) => ({ sequence_id: eb('sequence_id', '-', 1), updated_at: at }))
      .where('schedule_id', '=', scheduleId).where('sequence_id', '>', removedSequence).execute();
  }

  async setQueued(taskIds: number[], queued: boolean, at: string): Promise<void> {
    if (taskIds.length === 0) return;
    await this.db.updateTable('tasks').set({ is_queued: flag(queued), updated_at: at }).where('id', 'in', taskIds).execute();
  }
}
