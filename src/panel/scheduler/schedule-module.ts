/**
 * Composition of the schedule and retention parts on top of a PanelContext. One module per
 * context (cached), so the HTTP routes, the tick loop and tests share the same services.
 */
import type { PanelContext } from '../context.ts';
import type { ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { RetentionService } from '../services/retention.service.ts';
import { ScheduleDispatcher } from '../services/schedule-dispatch.service.ts';
import type { AutomaticActivity, AutomaticBackupPort, ScheduleDeps } from '../services/schedule-ports.ts';
import { ScheduleRunner } from '../services/schedule-runner.ts';
import { SchedulesService } from '../services/schedules.service.ts';
import { realSleep, type Clock, type Sleep } from './clock.ts';
import { Scheduler } from './scheduler.ts';

export interface ScheduleModuleOptions {
  /** Defaults to the context's own clock, so backups and schedules agree on "now". */
  clock?: Clock;
  sleep?: Sleep;
  intervalMs?: number;
  /** A run claimed longer ago than this is taken to be abandoned. Default 3 h (10 tasks x 900 s + slack). */
  staleRunMs?: number;
}

export interface ScheduleModule {
  schedules: SchedulesService;
  retention: RetentionService;
  dispatcher: ScheduleDispatcher;
  runner: ScheduleRunner;
  scheduler: Scheduler;
  deps: ScheduleDeps;
}

const modules = new WeakMap<PanelContext, ScheduleModule>();

async function targetOf(ctx: PanelContext, server: ServerRow) {
  const node = await ctx.repos.nodes.findById(server.node_id);
  if (!node) throw PanelErrors.resourceNotFound();
  return { server, node };
}

/** The module for this context, created on first use (later options are ignored). */
export function scheduleModuleFor(ctx: PanelContext, opts: ScheduleModuleOptions = {}): ScheduleModule {
  const existing = modules.get(ctx);
  if (existing) return existing;

  const backups: AutomaticBackupPort = {
    create: async (server, ignored) => ctx.services.backups.create(await targetOf(ctx, server), { ignored: ignored.join('\n'), name: null, isLocked: false }, null),
    delete: async (server, backup) => ctx.services.backups.delete(await targetOf(ctx, server), backup, null),
  };
  const activity: AutomaticActivity = {
    log: (event, properties, subjects, actor = null) => ctx.services.activity.log({ event, actor, properties, subjects }),
  };
  const shutdown = new AbortController();
  const deps: ScheduleDeps = {
    db: ctx.db,
    clock: opts.clock ?? { now: () => ctx.deps.clock() },
    sleep: opts.sleep ?? realSleep,
    logger: ctx.logger.child({ part: 'scheduler' }),
    backups,
    activity,
    staleRunMs: opts.staleRunMs ?? 3 * 3600_000,
    signal: shutdown.signal,
  };
  const runner = new ScheduleRunner(deps, ctx.database.dialect);
  const retention = new RetentionService(deps, ctx.database.dialect);
  const dispatcher = new ScheduleDispatcher(deps, runner);
  const module: ScheduleModule = {
    schedules: new SchedulesService(deps, runner),
    retention,
    dispatcher,
    runner,
    scheduler: new Scheduler(dispatcher, retention, deps.logger, { intervalMs: opts.intervalMs, onStop: () => shutdown.abort() }),
    deps,
  };
  // Retention right after a successful backup is reported; the tick catches anything missed here.
  ctx.services.remote.onBackupCompleted(async ({ server, successful }) => {
    if (successful) await retention.applyPending(server.id);
  });
  modules.set(ctx, module);
  return module;
}

/** Starts the tick loop inside a running panel; returns the stop function for its shutdown. */
export function startScheduler(ctx: PanelContext, opts: ScheduleModuleOptions = {}): { scheduler: Scheduler; stop(): Promise<void> } {
  const { scheduler } = scheduleModuleFor(ctx, opts);
  scheduler.start();
  return { scheduler, stop: () => scheduler.stop() };
}
