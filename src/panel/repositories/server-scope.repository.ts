import { LruMap } from '../../core/lru-map.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import { changeFeedOf, type Executor } from '../db/database.ts';
import type { ApiKeyRow, NodeRow, ServerRow, UserRow } from '../db/schema.ts';
import { KEY_COLUMNS_AS, keyOf } from './api-keys.repository.ts';
import { USER_COLUMNS_AS, userOf } from './user-join.ts';
import { precompiled } from './precompiled.ts';
import { SERVER_COLUMNS } from './servers.repository.ts';
import { openStored } from './stored-secret.ts';

/** What every client API request on a server needs first, read in one query. */
export interface ServerScopeRow {
  server: ServerRow;
  node: NodeRow;
  /** The caller's subuser permissions (stored JSON) on this server; null when they are not a subuser. */
  subuserPermissions: string | null;
  /** What the server's backup list shows changes with this (migration 0014): cached pages are keyed by it. */
  backupListVersion: number;
}

const NODE_COLUMNS_AS = [
  'nodes.id as n_id', 'nodes.uuid as n_uuid', 'nodes.name as n_name', 'nodes.url as n_url', 'nodes.daemon_token_id as n_daemon_token_id',
  'nodes.daemon_token as n_daemon_token', 'nodes.maintenance as n_maintenance', 'nodes.created_at as n_created_at', 'nodes.updated_at as n_updated_at',
  'nodes.destination_id as n_destination_id', 'nodes.backup_ignore as n_backup_ignore',
] as const;

// The server, its node and the caller's subuser row: three lookups that every client API request
// on a server made one after the other, now one round trip (docs/benchmarks.md, the load section).
// Built once per route-key column (precompiled.ts). Parameters in SQL order: the join's, then the where's.
const scopeBy = (column: 'servers.identifier' | 'servers.uuid') => precompiled((db: Executor, userId: number, key: string) => db.selectFrom('servers')
  .innerJoin('nodes', 'nodes.id', 'servers.node_id')
  .leftJoin('subusers', (j) => j.onRef('subusers.server_id', '=', 'servers.id').on('subusers.user_id', '=', userId))
  .leftJoin('backup_list_versions', 'backup_list_versions.server_id', 'servers.id')
  .select([...SERVER_COLUMNS, ...NODE_COLUMNS_AS, 'subusers.permissions as sub_permissions', 'backup_list_versions.version as list_version'])
  .where(column, '=', key));
const byIdentifier = scopeBy('servers.identifier');
const byUuid = scopeBy('servers.uuid');

// A client API request by key on a server: the key, its user and the scope above in one statement
// (one round trip on PostgreSQL, one statement's overhead on SQLite; docs/benchmarks.md). The
// server's columns are null when the route key names no server. Parameters: the join's, then the where's.
const keyScopeBy = (column: 'servers.identifier' | 'servers.uuid') => precompiled((db: Executor, key: string, identifier: string) => db.selectFrom('api_keys')
  .innerJoin('users', 'users.id', 'api_keys.user_id')
  .leftJoin('servers', (j) => j.on(column, '=', key))
  .leftJoin('nodes', 'nodes.id', 'servers.node_id')
  .leftJoin('subusers', (j) => j.onRef('subusers.server_id', '=', 'servers.id').onRef('subusers.user_id', '=', 'api_keys.user_id'))
  .leftJoin('backup_list_versions', 'backup_list_versions.server_id', 'servers.id')
  .select([...KEY_COLUMNS_AS, ...USER_COLUMNS_AS, ...SERVER_COLUMNS, ...NODE_COLUMNS_AS, 'subusers.permissions as sub_permissions', 'backup_list_versions.version as list_version'])
  .where('api_keys.identifier', '=', identifier));
const keyByIdentifier = keyScopeBy('servers.identifier');
const keyByUuid = keyScopeBy('servers.uuid');

/** A key with its user, and the server scope its request names (undefined: no such server). */
export interface KeyWithScope {
  key: ApiKeyRow;
  user: UserRow;
  scope: ServerScopeRow | undefined;
}

/** Kept key + scope answers per panel (least recently used dropped past this; ~2 KB each). */
export const KEPT_SCOPES = 4096;

export class ServerScopeRepository {
  /** findWithKey answers by key identifier and route key, with the change-feed epoch they were read at. */
  readonly #kept: LruMap<string, { epoch: number; found: KeyWithScope | undefined }>;

  constructor(private readonly db: Executor, private readonly secrets: SecretBox, capacity = KEPT_SCOPES) {
    this.#kept = new LruMap(capacity);
  }

  /** Upstream's binding, as ServersRepository.findByRouteKey: 8 characters = the short identifier, else the uuid. */
  async find(userId: number, routeKey: string): Promise<ServerScopeRow | undefined> {
    const [r] = await (routeKey.length === 8 ? byIdentifier : byUuid)(this.db, userId, routeKey.toLowerCase());
    return r ? this.scopeOf(r) : undefined;
  }

  /** The key `identifier` with its user, and the scope of `routeKey` as `find` reads it for the key's user. */
  async findWithKey(identifier: string, routeKey: string): Promise<KeyWithScope | undefined> {
    const [r] = await (routeKey.length === 8 ? keyByIdentifier : keyByUuid)(this.db, routeKey.toLowerCase(), identifier);
    if (!r) return undefined;
    return { key: keyOf(r), user: userOf(r), scope: r.id === null ? undefined : this.scopeOf(r as ScopeColumns) };
  }

  /**
   * As findWithKey, answered from memory while nothing that decides it has changed (change-feed.ts:
   * this process's writes at once, other panels' through LISTEN/NOTIFY, another SQLite connection's
   * through data_version). For reads only (the backup list): a kept answer is as fresh as the
   * feed, a few milliseconds behind another panel's commit at most. The caller must not modify it.
   */
  async findWithKeyKept(identifier: string, routeKey: string): Promise<KeyWithScope | undefined> {
    const feed = changeFeedOf(this.db);
    if (!feed || this.#kept.capacity === 0 || !feed.refresh()) return this.findWithKey(identifier, routeKey);
    const k = `${identifier}\0${routeKey}`;
    const hit = this.#kept.get(k);
    if (hit && hit.epoch === feed.epoch) return hit.found;
    const epoch = feed.epoch;
    const found = await this.findWithKey(identifier, routeKey);
    // Kept only when nothing moved the epoch while it was read.
    if (feed.epoch === epoch) this.#kept.set(k, { epoch, found });
    return found;
  }

  private scopeOf(r: ScopeColumns): ServerScopeRow {
    const secrets = this.secrets;
    const sealedToken = r.n_daemon_token;
    let token: string | undefined;
    return {
      server: {
        id: r.id, uuid: r.uuid, identifier: r.identifier, name: r.name, owner_id: r.owner_id, node_id: r.node_id, status: r.status,
        backup_limit: r.backup_limit, created_at: r.created_at, updated_at: r.updated_at, destination_id: r.destination_id, backup_bytes_limit: r.backup_bytes_limit, egg_id: r.egg_id,
      },
      node: {
        id: r.n_id, uuid: r.n_uuid, name: r.n_name, url: r.n_url, daemon_token_id: r.n_daemon_token_id,
        // Opened (AES-GCM) only when a route talks to the daemon: most requests never do.
        get daemon_token() { return (token ??= openStored(secrets, sealedToken)); },
        maintenance: r.n_maintenance, created_at: r.n_created_at, updated_at: r.n_updated_at, destination_id: r.n_destination_id, backup_ignore: r.n_backup_ignore,
      },
      subuserPermissions: r.sub_permissions,
      backupListVersion: Number(r.list_version ?? 0),
    };
  }
}

/** A row of the scope query (either form). */
type ScopeColumns = Awaited<ReturnType<typeof byIdentifier>>[number];
