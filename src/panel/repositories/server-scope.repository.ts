import type { SecretBox } from '../../core/secret-box.ts';
import type { Executor } from '../db/database.ts';
import type { NodeRow, ServerRow } from '../db/schema.ts';
import { precompiled } from './precompiled.ts';
import { SERVER_COLUMNS } from './servers.repository.ts';
import { openStored } from './stored-secret.ts';

/** What every client API request on a server needs first, read in one query. */
export interface ServerScopeRow {
  server: ServerRow;
  node: NodeRow;
  /** The caller's subuser permissions (stored JSON) on this server; null when they are not a subuser. */
  subuserPermissions: string | null;
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
  .select([...SERVER_COLUMNS, ...NODE_COLUMNS_AS, 'subusers.permissions as sub_permissions'])
  .where(column, '=', key));
const byIdentifier = scopeBy('servers.identifier');
const byUuid = scopeBy('servers.uuid');

export class ServerScopeRepository {
  constructor(private readonly db: Executor, private readonly secrets: SecretBox) {}

  /** Upstream's binding, as ServersRepository.findByRouteKey: 8 characters = the short identifier, else the uuid. */
  async find(userId: number, routeKey: string): Promise<ServerScopeRow | undefined> {
    const [r] = await (routeKey.length === 8 ? byIdentifier : byUuid)(this.db, userId, routeKey.toLowerCase());
    if (!r) return undefined;
    return {
      server: {
        id: r.id, uuid: r.uuid, identifier: r.identifier, name: r.name, owner_id: r.owner_id, node_id: r.node_id, status: r.status,
        backup_limit: r.backup_limit, created_at: r.created_at, updated_at: r.updated_at, destination_id: r.destination_id, backup_bytes_limit: r.backup_bytes_limit, egg_id: r.egg_id,
      },
      node: {
        id: r.n_id, uuid: r.n_uuid, name: r.n_name, url: r.n_url, daemon_token_id: r.n_daemon_token_id, daemon_token: openStored(this.secrets, r.n_daemon_token),
        maintenance: r.n_maintenance, created_at: r.n_created_at, updated_at: r.n_updated_at, destination_id: r.n_destination_id, backup_ignore: r.n_backup_ignore,
      },
      subuserPermissions: r.sub_permissions,
    };
  }
}
