/**
 * The panel without HTTP: database, repositories and services wired together. The CLI, the HTTP
 * app and tests all start from here.
 */
import { silentLogger, type Logger } from '../core/logger.ts';
import { openSecretBox } from './app-key.ts';
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
import { BackupFilesService } from './services/backup-files.service.ts';
import type { Clock, ServiceDeps } from './services/deps.ts';
import { noopMetrics, type PanelMetrics } from './services/metrics.ts';
import { NodesService } from './services/nodes.service.ts';
import { EggsService } from './services/eggs.service.ts';
import { RemoteService } from './services/remote.service.ts';
import { VerificationService } from './services/verification.service.ts';
import { StorageQuotaService } from './services/storage-quota.ts';
import { ServerControlService } from './services/server-control.service.ts';
import { ServersService } from './services/servers.service.ts';
import { SessionsService } from './services/sessions.service.ts';
import { SubusersService } from './services/subusers.service.ts';
import { UsersService } from './services/users.service.ts';
import { createHash } from 'node:crypto';
import { parseAppKey, SecretBox } from '../core/secret-box.ts';
import { DestinationStores } from './services/destination-stores.ts';
import { DestinationsService } from './services/destinations.service.ts';
import { BackupCopiesService } from './services/backup-copies.service.ts';
import { NotificationQueue } from './notify/notification-queue.ts';
import { ServerWebhooksService } from './notify/server-webhooks.service.ts';

export interface PanelServices {
  users: UsersService;
  apiKeys: ApiKeysService;
  sessions: SessionsService;
  /** Alias of `sessions` (login/logout/session lookup). */
  auth: SessionsService;
  nodes: NodesService;
  eggs: EggsService;
  servers: ServersService;
  subusers: SubusersService;
  backups: BackupsService;
  backupFiles: BackupFilesService;
  remote: RemoteService;
  /** Reading stored archives back (docs/verification.md). */
  verification: VerificationService;
  serverControl: ServerControlService;
  activity: ActivityService;
  /** The owner's per-server notification webhooks (docs/notifications.md). */
  webhooks: ServerWebhooksService;
  /** Backup destinations (docs/destinations.md). */
  destinations: DestinationsService;
  /** Copies of completed backups to a second destination (3-2-1). */
  copies: BackupCopiesService;
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
  clock?: Clock;
  metrics?: PanelMetrics;
  /** Seals stored secrets; default: APP_KEY (/APP_PREVIOUS_KEYS) from the environment. */
  secrets?: SecretBox;
  /** Skip running migrations (a caller that already did). */
  skipMigrations?: boolean;
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
    secrets,
    // Reads deps.config at use: the harness and tests swap the config after opening.
    stores: new DestinationStores({ repos, secrets, logger, get config() { return deps.config; } }),
    metrics: opts.metrics ?? noopMetrics,
  };
  const destinations = new DestinationsService(deps);
  try {
    if (!opts.skipMigrations) await destinations.importFromConfig();
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  // The default destination's S3 client is made now (other destinations' on first use), so a
  // panel backing up to S3 pays for the SDK at start, as before, not in its first request.
  const dflt = await repos.destinations.findDefault();
  if (dflt?.kind === 's3') {
    await deps.stores.s3(dflt).catch((err: unknown) => logger.warn({ destination: dflt.name, err: String(err) }, 'the default destination\'s S3 client could not be made'));
  }
  const copies = new BackupCopiesService(deps);
  const users = new UsersService(deps);
  const activity = new ActivityService(deps);
  const sessions = new SessionsService(deps, users);
  const notifications = new NotificationQueue(deps);
  const verification = new VerificationService(deps, activity, notifications);
  const backups = new BackupsService(deps, activity, copies);
  const services: PanelServices = {
    users,
    apiKeys: new ApiKeysService(deps),
    sessions,
    auth: sessions,
    nodes: new NodesService(deps),
    eggs: new EggsService(deps),
    servers: new ServersService(deps),
    subusers: new SubusersService(deps, users),
    backups,
    backupFiles: new BackupFilesService(deps, activity, backups),
    remote: new RemoteService(deps, activity, notifications, verification, new StorageQuotaService(deps, activity, backups)),
    verification,
    serverControl: new ServerControlService(deps, activity),
    activity,
    webhooks: new ServerWebhooksService(deps),
    destinations,
    copies,
    restic: new ResticService(deps),
  };
  // A completed backup whose destination names a copy target is copied in the background.
  services.remote.onBackupCompleted(({ backup, successful }) => (successful ? copies.onCompleted(backup) : undefined));
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
