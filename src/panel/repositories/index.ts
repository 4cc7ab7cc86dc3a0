import { DestinationResticUpkeepRepository } from './destination-restic-upkeep.repository.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { Dialect, Executor } from '../db/database.ts';
import { ActivityRepository } from './activity.repository.ts';
import { ApiKeysRepository } from './api-keys.repository.ts';
import { BackupsRepository } from './backups.repository.ts';
import { DestinationsRepository } from './destinations.repository.ts';
import { NodesRepository } from './nodes.repository.ts';
import { NodeResticRepository } from './node-restic.repository.ts';
import { NotificationsRepository } from './notifications.repository.ts';
import { RateLimitsRepository } from './rate-limits.repository.ts';
import { ReconcileLeasesRepository } from './reconcile-leases.repository.ts';
import { ServersRepository } from './servers.repository.ts';
import { ServerScopeRepository } from './server-scope.repository.ts';
import { ServerSaveHooksRepository } from './server-save-hooks.repository.ts';
import { SessionsRepository } from './sessions.repository.ts';
import { SubusersRepository } from './subusers.repository.ts';
import { UsersRepository } from './users.repository.ts';
import { VerificationLeasesRepository } from './verification-leases.repository.ts';
import { EggsRepository } from './eggs.repository.ts';

export interface Repos {
  users: UsersRepository;
  apiKeys: ApiKeysRepository;
  sessions: SessionsRepository;
  nodes: NodesRepository;
  servers: ServersRepository;
  serverScopes: ServerScopeRepository;
  subusers: SubusersRepository;
  backups: BackupsRepository;
  activity: ActivityRepository;
  saveHooks: ServerSaveHooksRepository;
  reconcileLeases: ReconcileLeasesRepository;
  notifications: NotificationsRepository;
  destinations: DestinationsRepository;
  rateLimits: RateLimitsRepository;
  nodeRestic: NodeResticRepository;
  destinationResticUpkeep: DestinationResticUpkeepRepository;
  verificationLeases: VerificationLeasesRepository;
  eggs: EggsRepository;
}

export function createRepositories(db: Executor, dialect: Dialect, secrets: SecretBox): Repos {
  return {
    users: new UsersRepository(db),
    apiKeys: new ApiKeysRepository(db),
    sessions: new SessionsRepository(db),
    nodes: new NodesRepository(db, secrets),
    servers: new ServersRepository(db, dialect),
    serverScopes: new ServerScopeRepository(db, secrets),
    subusers: new SubusersRepository(db),
    backups: new BackupsRepository(db),
    activity: new ActivityRepository(db),
    saveHooks: new ServerSaveHooksRepository(db),
    reconcileLeases: new ReconcileLeasesRepository(db),
    destinations: new DestinationsRepository(db),
    notifications: new NotificationsRepository(db, secrets),
    rateLimits: new RateLimitsRepository(db),
    nodeRestic: new NodeResticRepository(db),
    destinationResticUpkeep: new DestinationResticUpkeepRepository(db),
    verificationLeases: new VerificationLeasesRepository(db),
    eggs: new EggsRepository(db),
  };
}

export type { Page, PageRequest } from './page.ts';
export { ActivityRepository, ApiKeysRepository, BackupsRepository, DestinationsRepository, NodesRepository, NotificationsRepository, RateLimitsRepository, ReconcileLeasesRepository, ServersRepository, SessionsRepository, SubusersRepository, UsersRepository, ServerSaveHooksRepository };
