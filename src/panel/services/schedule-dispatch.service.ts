import { SchedulesRepository } from '../repositories/schedules.repository.ts';
import { nextRunAfterFiring } from '../scheduler/cron.ts';
import { cronOf } from './schedules.service.ts';
import type { ScheduleDeps } from './schedule-ports.ts';
import type { ScheduleRunner } from './schedule-runner.ts';

export interface DispatchResult {
  /** Schedules this process claimed and started. */
  fired: number[];
  /** Settles when every started run has finished (tests await it; the tick loop does not). */
  done: Promise<void>;
}

/**
 * Finds due schedules and claims each run in the database before starting it. Several panel
 * processes may call this at the same moment on one database: the conditional UPDATE in
 * claimDue lets exactly one of them win each run.
 */
export class ScheduleDispatcher {
  private readonly repo: SchedulesRepository;

  constructor(private readonly d: ScheduleDeps, private readonly runner: ScheduleRunner) {
    this.repo = new SchedulesRepository(d.db);
  }

  async dispatchDue(): Promise<DispatchResult> {
    const now = this.d.clock.now();
    const nowIso = now.toISOString();
    const staleBefore = new Date(now.getTime() - this.d.staleRunMs).toISOString();
    const fired: number[] = [];
    const runs: Promise<void>[] = [];
    for (const s of await this.repo.listDue(nowIso, staleBefore)) {
      let next: string;
      try {
        next = nextRunAfterFiring(cronOf(s), new Date(s.next_run_at!), now).toISOString();
      } catch (err) {
        this.d.logger.error({ err, schedule_id: s.id }, 'schedule has an unusable cron expression');
        continue;
      }
      if (!(await this.repo.claimDue(s.id, s.next_run_at!, next, nowIso, staleBefore))) continue;
      fired.push(s.id);
      runs.push(this.runner.run(s.id, { manual: false }));
    }
    return { fired, done: Promise.all(runs).then(() => undefined) };
  }
}
