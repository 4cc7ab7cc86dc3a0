/**
 * The panel without HTTP: database, repositories and services wired together. The CLI, the HTTP
 * app and tests all start from here.
 */
import { silentLogger, type Logger } from '../core/logger.ts';
import { SecretBox, SecretBoxError, parseAppKey } from '../core/secret-box.ts';
import { ResticService } from './services/restic.service.ts';
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
  /** Each node's restic repository (docs/restic.md). */
  restic: ResticService;
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
  /** Seals stored secrets; default: APP_KEY (/APP_PREVIOUS_KEYS) from the environment. */
  secrets?: SecretBox;
  /** Skip running migrations (a caller that already did). */
  skipMigrations?: boolean;
}

/**
 * Minimal until the panel config carries APP_KEY (the multipanel work folds this in): with no
 * APP_KEY nothing can be sealed, and storing a secret says so instead of keeping it in clear.
 */
function secretBoxFromEnv(): SecretBox {
  const raw = process.env.APP_KEY;
  if (raw) return new SecretBox([parseAppKey(raw), ...(process.env.APP_PREVIOUS_KEYS ?? '').split(',').filter((k) => k.trim() !== '').map((k) => parseAppKey(k.trim(), 'APP_PREVIOUS_KEYS'))]);
  const missing = (): never => {
    throw new SecretBoxError('APP_KEY is not set: the panel cannot store secrets (set APP_KEY=base64:<32 random bytes, e.g. from `openssl rand -base64 32`>)');
  };
  return Object.assign(Object.create(SecretBox.prototype) as SecretBox, { seal: missing, open: missing, isStale: () => false });
}

/** The AWS SDK costs ~25 MiB of memory, so it is loaded only by a panel that uses S3. */
async function openS3BackupStore(s3: NonNullable<PanelConfig['s3']>, logger: Logger): Promise<S3BackupStore> {
  const { createS3BackupStore } = await import('./storage/s3-backup-store.ts');
  return createS3BackupStore(s3, logger);
}

export async function openPanelContext(config: PanelConfig, opts: PanelContextOptions = {}): Promise<PanelContext> {
  const logger = opts.logger ?? silentLogger();
  const database = createDatabase(config.databaseUrl);
  try {
    if (!opts.skipMigrations) await migrateToLatest(database.db);
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  const repos = createRepositories(database.db, database.dialect);
  const deps: ServiceDeps = {
    config,
    repos,
    tx: transactionRunner(database),
    clock: opts.clock ?? (() => new Date()),
    logger,
    daemon: opts.daemonClient ?? createDaemonClient({ logger }),
    s3: opts.s3 ?? (config.s3 ? await openS3BackupStore(config.s3, logger) : undefined),
    metrics: opts.metrics ?? noopMetrics,
    secrets: opts.secrets ?? secretBoxFromEnv(),
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
    restic: new ResticService(deps),
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
