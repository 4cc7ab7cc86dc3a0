/**
 * Composition root of a running panel: context + HTTP app + background maintenance.
 */
import { errorMessage } from '../core/app-error.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { PanelConfig } from './config.ts';
import { openPanelContext, type PanelContext, type PanelContextOptions } from './context.ts';
import { buildPanelApp } from './http/app.ts';
import { createPanelMetrics } from './http/metrics.plugin.ts';
import { startScheduler } from './scheduler/schedule-module.ts';
import { startReconciler } from './reconcile/reconciler.ts';
import { NotificationDispatcher, startNotificationTimer } from './notify/dispatcher.ts';
import { startVerificationTimer } from './services/verification-schedule.ts';
import { ResticMaintenanceService } from './services/restic-maintenance.service.ts';

export interface PanelHandle {
  url: string;
  port: number;
  context: PanelContext;
  close(): Promise<void>;
}

/** A background job that runs while the panel is up; started after listen, stopped on close. */
export type PanelBackgroundTask = (ctx: PanelContext) => { stop(): Promise<void> | void };

export interface StartPanelOptions extends Omit<PanelContextOptions, 'metrics'> {
  logger?: Logger;
  /** Extra background jobs (tests, embedders). */
  backgroundTasks?: PanelBackgroundTask[];
}

/** Marks stale in-progress backups failed and releases stale restores every `pruneIntervalSeconds` (0 prune age = off). */
export function startPruneTimer(ctx: PanelContext): { stop(): void } {
  if (ctx.config.pruneAgeMinutes <= 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    ctx.services.backups.pruneStale()
      .then(() => ctx.services.backups.releaseStaleRestores())
      // Copies that failed an attempt (or whose panel died) are retried here.
      .then(() => ctx.services.copies.drain())
      .catch((err: unknown) => ctx.logger.error({ err: errorMessage(err) }, 'stale backup prune failed'))
      .finally(() => { running = false; });
  }, ctx.config.pruneIntervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** restic prunes and checks (docs/restic.md), one pass every RESTIC_MAINTENANCE_INTERVAL seconds. */
export function startResticMaintenance(ctx: PanelContext): { stop(): void } {
  const service = new ResticMaintenanceService(ctx.deps);
  const every = service.config.intervalSeconds;
  if (every <= 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    service.runOnce()
      .catch((err: unknown) => ctx.logger.error({ err: errorMessage(err) }, 'restic maintenance pass failed'))
      .finally(() => { running = false; });
  }, every * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export async function startPanel(config: PanelConfig, opts: StartPanelOptions = {}): Promise<PanelHandle> {
  const logger = opts.logger ?? silentLogger();
  // The gauge reads through the context, which does not exist yet when the registry is made.
  let ctxRef: PanelContext | undefined;
  const metrics = createPanelMetrics({ backupsInProgress: async () => (ctxRef ? ctxRef.repos.backups.countInProgress() : 0) });
  const ctx = await openPanelContext(config, { ...opts, logger, metrics });
  ctxRef = ctx;
  let app;
  try {
    app = await buildPanelApp(ctx, { metrics });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close().catch(() => {});
    await ctx.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${hostForUrl}:${port}`;
  const notifications = startNotificationTimer(new NotificationDispatcher(ctx.deps), config.notify.drainIntervalMs, logger);
  const tasks: Array<{ stop(): Promise<void> | void }> = [startPruneTimer(ctx), startScheduler(ctx), startReconciler(ctx), notifications, startVerificationTimer(ctx.deps, ctx.services.verification), startResticMaintenance(ctx)];
  for (const t of opts.backgroundTasks ?? []) tasks.push(t(ctx));
  logger.info({ url, driver: config.backupDriver }, 'panel listening');
  let closed = false;
  return {
    url,
    port,
    context: ctx,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of tasks) await t.stop();
      await app.close();
      await ctx.close();
    },
  };
}
