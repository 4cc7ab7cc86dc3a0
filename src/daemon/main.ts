/**
 * Composition root of the daemon: the only place that builds the parts and wires them together.
 */
import { resticDetail } from './restic/restic-cli.ts';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../core/logger.ts';
import { errorMessage } from '../core/app-error.ts';
import type { DaemonConfig } from './config.ts';
import { parseDaemonConfig } from './config.ts';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.ts';
import { HttpPanelClient } from './panel-client/panel-client.ts';
import { ReportOutbox } from './services/report-outbox.ts';
import { JobJournal } from './services/job-journal.ts';
import { SourceSizes } from './services/source-sizes.ts';
import { BackupStore } from './services/backup-store.ts';
import { ServerRegistry } from './services/server-registry.ts';
import { BackupCopyService } from './services/backup-copy.ts';
import { VerifyService } from './services/verify.service.ts';
import { BackupService, failedBackupReport } from './services/backup.service.ts';
import { BackupIndexes } from './services/backup-indexes.ts';
import { BrowseService } from './services/browse.service.ts';
import { HostAllowlist } from './services/ssrf-guard.ts';
import { RestoreService } from './services/restore.service.ts';
import { ResticService } from './restic/restic-service.ts';
import { ResticBrowse } from './restic/restic-browse.ts';
import { stagingDirName } from './restic/staged-restore.ts';
import { InventoryService } from './services/inventory.service.ts';
import { FailureReasons } from './services/failure-reason.ts';
import { OneTimeIds, TokenVerifier } from './services/token-verifier.ts';
import { EventHub } from './ws/event-hub.ts';
import { buildDaemonApp, type BuildDaemonAppOptions } from './http/app.ts';
import type { DaemonHttpDeps } from './http/deps.ts';
import { canonicalUuid } from './uuid.ts';
import { createServerControl } from './control/server-control.ts';
import { SaveHookRunner } from './control/save-hooks.ts';

export interface DaemonHandle {
  url: string;
  port: number;
  /** Set when metrics.port moves /metrics to its own listener. */
  metricsUrl?: string;
  close(): Promise<void>;
}

/** A bare listener for /metrics only, so it can be bound to a different interface than the API. */
async function startMetricsServer(host: string, port: number, registry: DaemonMetrics['registry']): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * After a crash: temp files go, every journaled backup is reported failed (and its half-made
 * archive removed), every journaled restore is reported failed, and (unless `resetServers` is off,
 * beside Wings) the panel is told to reset the states of our servers — all through the outbox, so a
 * panel that is down still hears it.
 */
async function recoverFromCrash(journal: JobJournal, store: BackupStore, outbox: ReportOutbox, logger: Logger, opts: { resetServers: boolean; owedAfterSteps: OwedAfterStep[]; serverDir: (uuid: string) => string }): Promise<void> {
  const removed = await store.removeTemporaryFiles();
  if (removed.length > 0) logger.info({ files: removed.length }, 'removed temporary files left by a previous run');
  for (const { id, entry } of await journal.leftovers()) {
    const uuid = canonicalUuid(entry.backup_uuid);
    if (!uuid) {
      await journal.remove(id);
      continue;
    }
    // The job died between its save hook's before- and after-step: the game still holds its saves.
    if (entry.kind === 'backup' && Array.isArray(entry.save_hook_after) && entry.save_hook_after.length > 0) {
      opts.owedAfterSteps.push({ serverUuid: entry.server_uuid, commands: entry.save_hook_after.filter((c): c is string => typeof c === 'string') });
    }
    if (outbox.hasReportFor(id)) {
      // The job queued its report but died before dropping its journal entry: it is reported.
      await journal.remove(id);
      continue;
    }
    if (entry.kind === 'backup') {
      // Whatever reached the disk (an archive renamed into place, even its sidecar) belongs to a
      // job we now report failed: remove it so nothing claims a success the panel never heard of.
      const server = canonicalUuid(entry.server_uuid);
      if (entry.adapter === 'wings' && server) await store.remove(uuid, server);
      await outbox.enqueue(`/backups/${uuid}`, failedBackupReport(FailureReasons.restarted));
    } else {
      // A restic restore stages inside the server's directory; the server's own files were not
      // replaced yet unless the move had begun (then the reason says "restarted", as for tar.gz).
      const server = canonicalUuid(entry.server_uuid);
      if (entry.adapter === 'restic' && server) await rm(join(opts.serverDir(server), stagingDirName(uuid)), { recursive: true, force: true }).catch(() => undefined);
      await outbox.enqueue(`/backups/${uuid}/restore`, { successful: false, failure_reason: FailureReasons.restarted });
    }
    await journal.remove(id);
    logger.warn({ kind: entry.kind, backup_uuid: uuid, server_uuid: entry.server_uuid }, 'job interrupted by a previous crash reported failed');
  }
  // An upstream panel's reset also clears the `installing` state of servers Wings is installing;
  // beside Wings, every interrupted restore was reported above one by one instead.
  if (opts.resetServers) await outbox.enqueue('/servers/reset', null);
}

interface OwedAfterStep {
  serverUuid: string;
  commands: string[];
}

function displayUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export async function startDaemon(config: DaemonConfig, opts: { logger?: Logger; onRoute?: BuildDaemonAppOptions['onRoute'] } = {}): Promise<DaemonHandle> {
  const logger = opts.logger ?? createLogger({ name: 'daemon' });
  const startedAt = Date.now();
  await mkdir(config.system.stateDirectory, { recursive: true, mode: 0o700 });
  await mkdir(config.system.data, { recursive: true });

  const lifetime = new AbortController();
  const metrics = createDaemonMetrics();
  const panel = new HttpPanelClient(config, lifetime.signal);
  const outbox = new ReportOutbox(config.system.stateDirectory, panel, logger.child({ part: 'outbox' }), metrics);
  const journal = new JobJournal(config.system.stateDirectory);
  const store = new BackupStore(config.system.backupDirectory, config.system.backupLayout);
  const registry = new ServerRegistry(config.system.data, panel, logger.child({ part: 'servers' }), { sidecar: config.wings !== null });
  const hub = new EventHub();
  await store.init();
  await journal.init();
  await outbox.load();
  const owedAfterSteps: OwedAfterStep[] = [];
  await recoverFromCrash(journal, store, outbox, logger, { resetServers: config.panelKind === 'backwing', owedAfterSteps, serverDir: (uuid) => registry.directory(uuid) });
  outbox.resume();

  const sizes = new SourceSizes(config.system.stateDirectory);
  const control = createServerControl(config.control);
  const hooks = new SaveHookRunner(control, config.control.saveHooks.timeoutMs, logger.child({ part: 'save-hook' }));
  // In the background: a game that is down must not hold up the daemon's start.
  const owed = Promise.all(owedAfterSteps.map(async (o) => {
    const uuid = canonicalUuid(o.serverUuid);
    if (!uuid) return;
    logger.warn({ server_uuid: uuid, commands: o.commands.length }, 'sending the save hook after-step a crashed backup owed');
    await hooks.after({ uuid, dir: registry.directory(uuid) }, o.commands);
  }));
  const restic = new ResticService({ bin: config.system.backups.resticBinary, cacheDir: join(config.system.stateDirectory, 'restic-cache') });
  // Said once at start, clearly: restic jobs fail with the same sentence until it is installed.
  void restic.check().then(
    (version) => logger.info({ restic: version }, 'restic available for restic backups'),
    (err: unknown) => logger.warn({ restic: config.system.backups.resticBinary, problem: errorMessage(err), detail: resticDetail(err) }, 'restic backups will fail on this node'),
  );
  const backups = new BackupService({ config, registry, store, journal, outbox, panel, hub, metrics, logger, hooks, sizes, restic });
  const browse = new BrowseService({ store, indexes: new BackupIndexes({ logger: logger.child({ part: 'index' }) }), allowlist: new HostAllowlist(config.system.backups.restoreHostAllowlist), restic: new ResticBrowse(restic) });
  const restores = new RestoreService({ config, registry, store, journal, outbox, hub, metrics, logger, control, browse, restic, backupRunningFor: (s) => backups.isRunningFor(s) });
  const verifications = new VerifyService({ config, store, logger: logger.child({ part: 'verify' }), runningBackups: () => backups.runningCount });
  const copies = new BackupCopyService({ store, logger: logger.child({ part: 'copy' }) });
  const deps: DaemonHttpDeps = {
    config,
    logger,
    registry,
    backups,
    restores,
    verifications,
    copies,
    store,
    control,
    browse,
    inventory: new InventoryService({ store, backups, restores, outbox, logger: logger.child({ part: 'inventory' }) }),
    verifier: new TokenVerifier(config.token),
    downloadIds: new OneTimeIds(),
    hub,
    metrics,
    restic,
    startedAt,
  };
  const app = await buildDaemonApp(deps, { metrics: config.metrics.port === null, onRoute: opts.onRoute });
  let metricsServer: http.Server | null = null;
  let metricsUrl: string | undefined;
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
    if (config.metrics.port !== null) {
      const m = await startMetricsServer(config.metrics.host, config.metrics.port, metrics.registry);
      metricsServer = m.server;
      metricsUrl = `${displayUrl(config.metrics.host, m.port)}/metrics`;
    }
  } catch (err) {
    // Recovery reports are already queued on disk; stop their timers so the process can exit.
    await outbox.close();
    lifetime.abort(err);
    await app.close().catch(() => undefined);
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const url = displayUrl(config.api.host, port);
  logger.info({ url, uuid: config.uuid }, 'daemon listening');

  const loading = registry.loadWithRetry(lifetime.signal);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      logger.info('daemon shutting down');
      // Jobs first, so their honest "failed" reports are in the outbox before the last flush.
      verifications.close();
      copies.close();
      await Promise.all([backups.close(), restores.close(), owed]);
      await outbox.close();
      lifetime.abort(new Error('daemon closed'));
      await loading.catch(() => undefined);
      await app.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'error while closing http server'));
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise((r) => metricsServer!.close(r));
      }
    })();
    return closing;
  };
  return { url, port, ...(metricsUrl ? { metricsUrl } : {}), close };
}

/** The OpenAPI document of the daemon API, built from the route schemas without listening. */
export async function buildDaemonOpenApi(): Promise<object> {
  const config = parseDaemonConfig(
    'uuid: openapi\ntoken_id: openapi\ntoken: openapi-openapi-openapi\nremote: http://127.0.0.1\n',
    'openapi',
  );
  const unused = new Proxy({}, { get: () => { throw new Error('not available while building the OpenAPI document'); } });
  const { silentLogger } = await import('../core/logger.ts');
  const app = await buildDaemonApp(
    {
      config,
      logger: silentLogger(),
      registry: unused as never,
      backups: unused as never,
      restores: unused as never,
      verifications: unused as never,
      copies: unused as never,
      store: unused as never,
      control: unused as never,
      inventory: unused as never,
      browse: unused as never,
      restic: unused as never,
      verifier: unused as never,
      downloadIds: unused as never,
      hub: unused as never,
      metrics: unused as never,
      startedAt: 0,
    },
    { docs: false },
  );
  await app.ready();
  const doc = app.swagger() as object;
  await app.close();
  return doc;
}
