import type { Actor } from './deps.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { BackupRow, ServerRow } from '../db/schema.ts';
import type { ScheduleRow, TaskRow } from '../db/schedules.schema.ts';
import { BackupsRepository } from '../repositories/backups.repository.ts';
import { SchedulesRepository } from '../repositories/schedules.repository.ts';
import { ServersRepository } from '../repositories/servers.repository.ts';
import { planRotation } from '../retention/rotation.ts';
import type { ScheduleDeps } from './schedule-ports.ts';

export interface RunOptions {
  manual: boolean;
  /** Who pressed "run now" (null for the scheduler). */
  actor?: Actor | null;
}

/** Why a task did not complete, as the activity log shows it. */
class TaskFailure extends Error {}

const toCandidate = (b: BackupRow) => ({
  ...b,
  is_successful: b.is_successful === 1 && b.completed_at !== null,
  is_locked: b.is_locked === 1,
});

/**
 * Runs one claimed schedule run: its tasks in sequence, each after its time_offset. The caller has
 * already claimed the run in the database (is_processing = 1); this always releases it.
 */
export class ScheduleRunner {
  private readonly schedules: SchedulesRepository;
  private readonly servers: ServersRepository;
  private readonly backupRows: BackupsRepository;

  constructor(private readonly d: ScheduleDeps, dialect: 'sqlite' | 'postgres') {
    this.schedules = new SchedulesRepository(d.db);
    this.servers = new ServersRepository(d.db, dialect);
    this.backupRows = new BackupsRepository(d.db);
  }

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  async run(scheduleId: number, opts: RunOptions): Promise<void> {
    const schedule = await this.schedules.findById(scheduleId);
    if (!schedule) return;
    const subjects = [{ type: 'schedule', id: schedule.id }, { type: 'server', id: schedule.server_id }];
    try {
      const server = await this.servers.findById(schedule.server_id);
      if (!server) return;
      await this.d.activity.log('server:schedule.execute', { name: schedule.name, manual: opts.manual }, subjects, opts.actor ?? null);
      // Upstream skips the whole run while the server is not in a normal state (e.g. restoring).
      if (server.status !== null) {
        await this.fail(schedule, null, `server is ${server.status}`, subjects);
        return;
      }
      const tasks = await this.schedules.listTasks([schedule.id]);
      await this.schedules.setQueued(tasks.map((t) => t.id), true, this.now());
      try {
        for (const task of tasks) {
          if (this.d.signal?.aborted || (task.time_offset > 0 && !(await this.wait(task.time_offset * 1000)))) {
            await this.fail(schedule, task, 'the panel shut down before this task ran', subjects);
            break;
          }
          try {
            await this.runTask(schedule, server, task);
          } catch (err) {
            await this.fail(schedule, task, errorMessage(err), subjects);
            if (task.continue_on_failure !== 1) break;
          } finally {
            await this.schedules.setQueued([task.id], false, this.now());
          }
        }
      } finally {
        await this.schedules.setQueued(tasks.map((t) => t.id), false, this.now());
      }
    } catch (err) {
      this.d.logger.error({ err, schedule_id: scheduleId }, 'schedule run failed');
      await this.fail(schedule, null, errorMessage(err), subjects).catch(() => undefined);
    } finally {
      await this.schedules.finishRun(schedule.id, this.now());
    }
  }

  /** False when the panel is shutting down. */
  private async wait(ms: number): Promise<boolean> {
    try {
      await this.d.sleep(ms, this.d.signal);
      return !this.d.signal?.aborted;
    } catch (err) {
      if (this.d.signal?.aborted) return false;
      throw err;
    }
  }

  private async fail(schedule: ScheduleRow, task: TaskRow | null, reason: string, subjects: Array<{ type: string; id: number }>): Promise<void> {
    this.d.logger.warn({ schedule_id: schedule.id, task_id: task?.id, reason }, 'schedule task failed');
    await this.d.activity.log('server:schedule.failed', {
      name: schedule.name, ...(task ? { task_id: task.id, sequence_id: task.sequence_id, action: task.action } : {}), reason,
    }, subjects);
  }

  private async runTask(schedule: ScheduleRow, server: ServerRow, task: TaskRow): Promise<void> {
    if (task.action !== 'backup') throw new TaskFailure(`the ${task.action} action is not supported by backwing`);
    // Re-read the server: its limit may have changed since the run was claimed.
    const fresh = (await this.servers.findById(server.id)) ?? server;
    const plan = planRotation((await this.backupRows.listAllForServer(fresh.id)).map(toCandidate), fresh.backup_limit);
    if (!plan.ok) throw new TaskFailure(plan.reason);
    for (const victim of plan.remove) {
      // Re-check right before deleting: the user may have locked it since the plan was made.
      const row = await this.backupRows.findLiveForServer(fresh.id, victim.uuid);
      if (!row) continue;
      if (row.is_locked === 1) throw new TaskFailure(`backup ${row.name} was locked while rotating; nothing was created`);
      await this.d.backups.delete(fresh, row);
      await this.d.activity.log('server:backup.rotate', { name: row.name, uuid: row.uuid, schedule: schedule.name }, [
        { type: 'backup', id: row.id }, { type: 'schedule', id: schedule.id }, { type: 'server', id: fresh.id },
      ]);
    }
    const ignored = task.payload.split('\n').filter((l) => l !== '');
    await this.d.backups.create(fresh, ignored);
  }
}
