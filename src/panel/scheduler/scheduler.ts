import type { Logger } from '../../core/logger.ts';
import type { ScheduleDispatcher } from '../services/schedule-dispatch.service.ts';
import type { RetentionService, RetentionRunResult } from '../services/retention.service.ts';

export interface SchedulerOptions {
  /** How often to look for due runs and pending retention. Upstream's cron runs every minute. */
  intervalMs?: number;
  /** Called first thing in stop(), e.g. to abort runs waiting on a time_offset. */
  onStop?: () => void;
}

export interface TickResult {
  fired: number[];
  retention: RetentionRunResult[];
  /** Settles when the runs started by this tick have finished. */
  done: Promise<void>;
}

/**
 * The tick loop inside the panel process. It holds no schedule state in memory: every decision
 * comes from the database, so any number of panel processes can run it side by side.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<unknown> | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly dispatcher: ScheduleDispatcher,
    private readonly retention: RetentionService,
    private readonly logger: Logger,
    private readonly opts: SchedulerOptions = {},
  ) {}

  /** One pass: claim and start due runs, then apply retention for newly completed backups. */
  async tick(): Promise<TickResult> {
    const { fired, done } = await this.dispatcher.dispatchDue();
    const tracked = done.catch((err) => this.logger.error({ err }, 'schedule run crashed'));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    const retention = await this.retention.applyPending();
    return { fired, retention, done: tracked };
  }

  start(): void {
    if (this.timer) return;
    const loop = () => {
      if (this.ticking) return; // a slow tick (big retention pass) is never overlapped
      this.ticking = this.tick()
        .catch((err) => this.logger.error({ err }, 'scheduler tick failed'))
        .finally(() => { this.ticking = null; });
    };
    this.timer = setInterval(loop, this.opts.intervalMs ?? 15_000);
    this.timer.unref();
    loop();
  }

  /** Stops ticking and waits for the current tick and the runs it started. */
  async stop(): Promise<void> {
    this.opts.onStop?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.all([...this.running]);
  }
}
