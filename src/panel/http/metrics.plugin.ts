/**
 * Prometheus metrics at `/metrics`. One registry per app instance (never prom-client's global
 * one), so several panels in one process (tests) never share or double-register counters.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import type { PanelMetrics } from '../services/metrics.ts';

export interface PanelMetricsRegistry extends PanelMetrics {
  readonly registry: Registry;
  httpRequest(route: string, status: number): void;
}

export interface PanelMetricsOptions {
  /** Backups neither completed nor failed, read from the database at scrape time. */
  backupsInProgress?: () => Promise<number>;
  /** Process metrics (CPU, memory, event loop); off in tests to keep scrapes small. */
  defaultMetrics?: boolean;
}

export function createPanelMetrics(opts: PanelMetricsOptions = {}): PanelMetricsRegistry {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'backwing_panel_' });

  const backupsTotal = new Counter({
    name: 'backwing_panel_backups_total',
    help: 'Backups by storage driver and outcome (started, successful, failed).',
    labelNames: ['driver', 'outcome'] as const,
    registers: [registry],
  });
  const restoresTotal = new Counter({
    name: 'backwing_panel_restores_total',
    help: 'Restores reported by daemons, by outcome (successful, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const backupBytes = new Counter({
    name: 'backwing_panel_backup_bytes_total',
    help: 'Archive bytes of successful backups.',
    registers: [registry],
  });
  const backupDuration = new Histogram({
    name: 'backwing_panel_backup_duration_seconds',
    help: 'Time from backup creation to its completion report.',
    labelNames: ['driver', 'outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
    registers: [registry],
  });
  const inProgressSource = opts.backupsInProgress;
  new Gauge({
    name: 'backwing_panel_backups_in_progress',
    help: 'Backups started but not yet completed or failed (from the database).',
    registers: [registry],
    async collect() {
      if (inProgressSource) this.set(await inProgressSource());
    },
  });
  const resticCheckOk = new Gauge({
    name: 'backwing_panel_restic_check_ok',
    help: "The last restic repository check of each node's repository: 1 passed, 0 failed.",
    labelNames: ['node'] as const,
    registers: [registry],
  });
  const resticDestinationCheckOk = new Gauge({
    name: 'backwing_panel_restic_destination_check_ok',
    help: 'The last restic repository check of each restic destination repository, per node it runs through: 1 passed, 0 failed.',
    labelNames: ['destination', 'node'] as const,
    registers: [registry],
  });
  const resticChecks = new Counter({
    name: 'backwing_panel_restic_checks_total',
    help: 'restic repository checks by outcome (ok, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'backwing_panel_http_requests_total',
    help: 'HTTP requests by route pattern and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });

  const httpChildren = new Map<string, { inc(): void }>();

  return {
    registry,
    backupStarted(driver) {
      backupsTotal.inc({ driver, outcome: 'started' });
    },
    backupFinished({ driver, successful, bytes, durationSeconds }) {
      const outcome = successful ? 'successful' : 'failed';
      backupsTotal.inc({ driver, outcome });
      if (successful && bytes > 0) backupBytes.inc(bytes);
      if (durationSeconds !== null && Number.isFinite(durationSeconds) && durationSeconds >= 0) {
        backupDuration.observe({ driver, outcome }, durationSeconds);
      }
    },
    restoreFinished(successful) {
      restoresTotal.inc({ outcome: successful ? 'successful' : 'failed' });
    },
    resticCheck(node, ok) {
      resticCheckOk.set({ node }, ok ? 1 : 0);
      resticChecks.inc({ outcome: ok ? 'ok' : 'failed' });
    },
    resticDestinationCheck(destination, node, ok) {
      resticDestinationCheckOk.set({ destination, node }, ok ? 1 : 0);
      resticChecks.inc({ outcome: ok ? 'ok' : 'failed' });
    },
    httpRequest(route, status) {
      // The labelled child once per route and status: prom-client hashes the labels on every inc({...}).
      const key = `${status} ${route}`;
      let child = httpChildren.get(key);
      if (!child) {
        child = httpRequests.labels(route, String(status));
        httpChildren.set(key, child);
      }
      child.inc();
    },
  };
}

/**
 * Counts every request by its route *pattern* (`/api/client/servers/:server/backups`), never the
 * raw URL, so label cardinality stays bounded; unmatched URLs share one label.
 */
export const metricsPlugin: FastifyPluginAsync<{ metrics: PanelMetricsRegistry }> = async (app: FastifyInstance, opts) => {
  const { metrics } = opts;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') metrics.httpRequest(route, reply.statusCode);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
};
// Hooks must apply to every route of the app, not just this plugin's scope (what fastify-plugin does).
(metricsPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
