/**
 * The panel without HTTP: database, repositories and services wired together. The CLI, the HTTP
 * app and tests all start from here.
 */
import { silentLogger, type Logger } from '../core/logger.ts';
import { openSecretBox } from './app-key.ts';
import type { PanelConfig } from './config.ts';
import { createDaemonClient, type DaemonClient } from './daemon-client/daemon-client.ts';
import { createDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { transactionRunner, type TransactionRunner } from './db/unit-of-work.ts';
import { createRepositories, type Repos } from './repositories/index.ts';
import { ActivityService } from './services/activity.service.ts';
import { ApiKeysService } from './services/api-keys.service.ts';
import { BackupsService } from './services/backups.service.ts';
import type { Clock, ServiceDeps } from './services/deps.ts';
import { noopMetrics, type PanelMetrics } from './services/metrics.ts';
import { NodesService } from './services/nodes.service.ts';
import { RemoteService } from './services/remote.service.ts';
import { ServerControlService } from './services/server-control.service.ts';
import { ServersService } from './services/servers.service.ts';
import { SessionsService } from './services/sessions.service.ts';
import { SubusersService } from './services/subusers.service.ts';
import { UsersService } from './services/users.service.ts';
import type { S3BackupStore } from './storage/s3-backup-store.ts';
import { NotificationQueue } from './notify/notification-queue.ts';
import { ServerWebhooksService } from './notify/server-webhooks.service.ts';

export interface PanelServices {
  users: UsersService;
  apiKeys: ApiKeysService;
  sessions: SessionsService;
  /** Alias of `sessions` (login/logout/session lookup). */
  auth: SessionsService;
  nodes: NodesService;
  servers: ServersService;
  subusers: SubusersService;
  backups: BackupsService;
  remote: RemoteService;
  serverControl: ServerControlService;
  activity: ActivityService;
  /** The owner's per-server notification webhooks (docs/notifications.md). */
  webhooks: ServerWebhooksService;
}

export interface PanelContext {
  config: PanelConfig;
  database: Database;
  db: Database['db'];
  repos: Repos;
  tx: TransactionRunner;
  services: PanelServices;
  deps: ServiceDeps;
  logger: Logger;
  close(): Promise<void>;
}

export interface PanelContextOptions {
  logger?: Logger;
  daemonClient?: DaemonClient;
  s3?: S3BackupStore;
  clock?: Clock;
  metrics?: PanelMetrics;
  /** Skip running migrations (a caller that already did). */
  skipMigrations?: boolean;
}

/** The AWS SDK costs ~25 MiB of memory, so it is loaded only by a panel that uses S3. */
async function openS3BackupStore(s3: NonNullable<PanelConfig['s3']>, logger: Logger): Promise<S3BackupStore> {
  const { createS3BackupStore } = await import('./storage/s3-backup-store.ts');
  return createS3BackupStore(s3, logger);
}

export async function openPanelContext(config: PanelConfig, opts: PanelContextOptions = {}): Promise<PanelContext> {
  const logger = opts.logger ?? silentLogger();
  // Before the database: a PostgreSQL panel without APP_KEY must refuse before it touches anything.
  const secrets = openSecretBox(config);
  const database = createDatabase(config.databaseUrl);
  try {
    if (!opts.skipMigrations) await migrateToLatest(database.db, secrets);
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  const repos = createRepositories(database.db, database.dialect, secrets);
  const deps: ServiceDeps = {
    config,
    repos,
    tx: transactionRunner(database, secrets),
    clock: opts.clock ?? (() => new Date()),
    logger,
    daemon: opts.daemonClient ?? createDaemonClient({ logger }),
    s3: opts.s3 ?? (config.s3 ? await openS3BackupStore(config.s3, logger) : undefined),
    metrics: opts.metrics ?? noopMetrics,
    secrets,
  };
  const users = new UsersService(deps);
  const activity = new ActivityService(deps);
  const sessions = new SessionsService(deps, users);
  const services: PanelServices = {
    users,
    apiKeys: new ApiKeysService(deps),
    sessions,
    auth: sessions,
    nodes: new NodesService(deps),
    servers: new ServersService(deps),
    subusers: new SubusersService(deps, users),
    backups: new BackupsService(deps, activity),
    remote: new RemoteService(deps, activity, new NotificationQueue(deps)),
    serverControl: new ServerControlService(deps, activity),
    activity,
    webhooks: new ServerWebhooksService(deps),
  };
  let closed = false;
  return {
    config, database, db: database.db, repos, tx: deps.tx, services, deps, logger,
    async close() {
      if (closed) return;
      closed = true;
      await database.close();
    },
  };
}
