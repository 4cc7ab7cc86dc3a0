import type { Actor } from './deps.ts';
import { AppError } from '../../core/app-error.ts';
import type { ScheduleObject, TaskObject } from '../../wire/schedules.ts';
import type { ServerRow } from '../db/schema.ts';
import type { ScheduleRow, TaskRow } from '../db/schedules.schema.ts';
import { SchedulesRepository, type ScheduleValues } from '../repositories/schedules.repository.ts';
import { nextRunAfter, type CronFields } from '../scheduler/cron.ts';
import { atom } from './backup-view.ts';
import type { ScheduleDeps } from './schedule-ports.ts';
import type { ScheduleRunner } from './schedule-runner.ts';
import { validateScheduleBody, validateTaskBody } from './schedule-validation.ts';

/** Upstream's `pterodactyl.client_features.schedules.per_schedule_task_limit`. */
export const MAX_TASKS_PER_SCHEDULE = 10;

export const ScheduleErrors = {
  notFound: () => new AppError('NotFoundHttpException', 404, 'The requested resource could not be found on the server.'),
  backupLimitZero: () => new AppError('HttpForbiddenException', 403, "A backup task cannot be created when the server's backup limit is set to 0."),
  tooManyTasks: () => new AppError('ServiceLimitExceededException', 400, `Schedules may not have more than ${MAX_TASKS_PER_SCHEDULE} tasks associated with them. Creating this task would put this schedule over the limit.`),
  noTasks: () => new AppError('DisplayException', 400, 'Cannot process schedule for task execution: no tasks are registered.'),
  alreadyRunning: () => new AppError('ConflictHttpException', 409, 'This schedule is already being processed.'),
};

export function cronOf(s: ScheduleRow): CronFields {
  return { minute: s.cron_minute, hour: s.cron_hour, day_of_month: s.cron_day_of_month, month: s.cron_month, day_of_week: s.cron_day_of_week };
}

export function toTaskObject(t: TaskRow): TaskObject {
  return {
    object: 'schedule_task',
    attributes: {
      id: t.id, sequence_id: t.sequence_id, action: t.action, payload: t.payload, time_offset: t.time_offset,
      is_queued: t.is_queued === 1, continue_on_failure: t.continue_on_failure === 1,
      created_at: atom(t.created_at), updated_at: atom(t.updated_at),
    },
  };
}

export function toScheduleObject(s: ScheduleRow, tasks: TaskRow[]): ScheduleObject {
  return {
    object: 'server_schedule',
    attributes: {
      id: s.id, name: s.name,
      cron: { day_of_week: s.cron_day_of_week, day_of_month: s.cron_day_of_month, month: s.cron_month, hour: s.cron_hour, minute: s.cron_minute },
      is_active: s.is_active === 1, is_processing: s.is_processing === 1, only_when_online: s.only_when_online === 1,
      last_run_at: atom(s.last_run_at), next_run_at: atom(s.next_run_at),
      created_at: atom(s.created_at), updated_at: atom(s.updated_at),
      relationships: { tasks: { object: 'list', data: tasks.filter((t) => t.schedule_id === s.id).map(toTaskObject) } },
    },
  };
}

/** Schedule and task management for the client API. Authorisation happens in the routes. */
export class SchedulesService {
  private readonly repo: SchedulesRepository;

  constructor(private readonly d: ScheduleDeps, private readonly runner: ScheduleRunner) {
    this.repo = new SchedulesRepository(d.db);
  }

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  async list(server: ServerRow): Promise<ScheduleObject[]> {
    const schedules = await this.repo.listForServer(server.id);
    const tasks = await this.repo.listTasks(schedules.map((s) => s.id));
    return schedules.map((s) => toScheduleObject(s, tasks));
  }

  /** The schedule, scoped to its server: another server's schedule is a 404. */
  async find(server: ServerRow, id: number): Promise<ScheduleRow> {
    const s = Number.isSafeInteger(id) ? await this.repo.findForServer(server.id, id) : undefined;
    if (!s) throw ScheduleErrors.notFound();
    return s;
  }

  async view(server: ServerRow, id: number): Promise<ScheduleObject> {
    const s = await this.find(server, id);
    return toScheduleObject(s, await this.repo.listTasks([s.id]));
  }

  private values(input: ReturnType<typeof validateScheduleBody>, current?: ScheduleRow): ScheduleValues {
    return {
      name: input.name,
      cron_minute: input.cron.minute.trim(), cron_hour: input.cron.hour.trim(), cron_day_of_month: input.cron.day_of_month.trim(),
      cron_month: input.cron.month.trim(), cron_day_of_week: input.cron.day_of_week.trim(),
      // Absent flags keep their value on update; a new schedule is active unless told otherwise.
      is_active: input.is_active ?? (current ? current.is_active === 1 : true),
      only_when_online: input.only_when_online ?? (current ? current.only_when_online === 1 : false),
      next_run_at: nextRunAfter(input.cron, this.d.clock.now()).toISOString(),
    };
  }

  async create(server: ServerRow, body: unknown): Promise<{ object: ScheduleObject; row: ScheduleRow }> {
    const input = validateScheduleBody(body);
    const row = await this.repo.insert(server.id, this.values(input), this.now());
    return { object: toScheduleObject(row, []), row };
  }

  async update(server: ServerRow, id: number, body: unknown): Promise<{ object: ScheduleObject; row: ScheduleRow }> {
    const current = await this.find(server, id);
    const input = validateScheduleBody(body);
    const v = this.values(input, current);
    // Toggling is_active also resets a stuck "processing" flag, as upstream does.
    await this.repo.update(current.id, { ...v, reset_processing: v.is_active !== (current.is_active === 1) }, this.now());
    const row = (await this.repo.findById(current.id))!;
    return { object: toScheduleObject(row, await this.repo.listTasks([row.id])), row };
  }

  async delete(server: ServerRow, id: number): Promise<ScheduleRow> {
    const s = await this.find(server, id);
    await this.repo.delete(s.id);
    return s;
  }

  /** "Run now": runs in the background even when the schedule is inactive (upstream does too). */
  async executeNow(server: ServerRow, id: number, actor: Actor | null = null): Promise<{ row: ScheduleRow; done: Promise<void> }> {
    const s = await this.find(server, id);
    if ((await this.repo.countTasks(s.id)).count === 0) throw ScheduleErrors.noTasks();
    const at = this.d.clock.now();
    if (!(await this.repo.claimManual(s.id, at.toISOString(), new Date(at.getTime() - this.d.staleRunMs).toISOString()))) {
      throw ScheduleErrors.alreadyRunning();
    }
    return { row: s, done: this.runner.run(s.id, { manual: true, actor }) };
  }

  // ---- tasks ----

  async createTask(server: ServerRow, scheduleId: number, body: unknown): Promise<{ object: TaskObject; schedule: ScheduleRow; row: TaskRow }> {
    const schedule = await this.find(server, scheduleId);
    const input = validateTaskBody(body);
    if (input.action === 'backup' && server.backup_limit === 0) throw ScheduleErrors.backupLimitZero();
    const { count, maxSequence } = await this.repo.countTasks(schedule.id);
    if (count >= MAX_TASKS_PER_SCHEDULE) throw ScheduleErrors.tooManyTasks();
    const at = this.now();
    let sequence = maxSequence + 1;
    if (input.sequence_id !== undefined && input.sequence_id < sequence) {
      sequence = input.sequence_id;
      await this.repo.shiftSequences(schedule.id, sequence, at);
    }
    const row = await this.repo.insertTask(schedule.id, {
      sequence_id: sequence, action: input.action, payload: input.payload, time_offset: input.time_offset,
      continue_on_failure: input.continue_on_failure ?? false,
    }, at);
    return { object: toTaskObject(row), schedule, row };
  }

  async updateTask(server: ServerRow, scheduleId: number, taskId: number, body: unknown): Promise<{ object: TaskObject; schedule: ScheduleRow; row: TaskRow }> {
    const schedule = await this.find(server, scheduleId);
    const task = Number.isSafeInteger(taskId) ? await this.repo.findTask(schedule.id, taskId) : undefined;
    if (!task) throw ScheduleErrors.notFound();
    const input = validateTaskBody(body);
    if (input.action === 'backup' && server.backup_limit === 0) throw ScheduleErrors.backupLimitZero();
    const at = this.now();
    const { maxSequence } = await this.repo.countTasks(schedule.id);
    let sequence = Math.min(Math.max(1, input.sequence_id ?? task.sequence_id), maxSequence);
    if (sequence !== task.sequence_id) {
      // Take the task out of the order, then make room at its new place.
      await this.repo.compactAfterDelete(schedule.id, task.sequence_id, at);
      await this.repo.shiftSequences(schedule.id, sequence, at, task.id);
    } else {
      sequence = task.sequence_id;
    }
    await this.repo.updateTask(task.id, {
      sequence_id: sequence, action: input.action, payload: input.payload, time_offset: input.time_offset,
      continue_on_failure: input.continue_on_failure ?? task.continue_on_failure === 1,
    }, at);
    const row = (await this.repo.findTask(schedule.id, task.id))!;
    return { object: toTaskObject(row), schedule, row };
  }

  async deleteTask(server: ServerRow, scheduleId: number, taskId: number): Promise<{ schedule: ScheduleRow; row: TaskRow }> {
    const schedule = await this.find(server, scheduleId);
    const task = Number.isSafeInteger(taskId) ? await this.repo.findTask(schedule.id, taskId) : undefined;
    if (!task) throw ScheduleErrors.notFound();
    await this.repo.deleteTask(task.id);
    await this.repo.compactAfterDelete(schedule.id, task.sequence_id, this.now());
    return { schedule, row: task };
  }
}
