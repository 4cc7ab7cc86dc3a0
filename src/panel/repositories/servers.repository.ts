import { precompiled } from './precompiled.ts';
import type { Executor, Dialect } from '../db/database.ts';
import type { ServerRow } from '../db/schema.ts';
import { offsetOf, type Page, type PageRequest } from './page.ts';

/** A server row's columns (other repositories join servers and select these). */
export const SERVER_COLUMNS = ['servers.id', 'servers.uuid', 'servers.identifier', 'servers.name', 'servers.owner_id', 'servers.node_id', 'servers.status', 'servers.backup_limit', 'servers.created_at', 'servers.updated_at', 'servers.destination_id', 'servers.backup_bytes_limit', 'servers.egg_id'] as const;
const COLUMNS = SERVER_COLUMNS;

export type ServerListScope = { kind: 'accessible'; userId: number } | { kind: 'owned'; userId: number } | { kind: 'all' };

// Every client API request on a server resolves it here: built once per column (precompiled.ts).
const byIdentifier = precompiled((db: Executor, key: string) => db.selectFrom('servers').select(COLUMNS).where('servers.identifier', '=', key));
const byUuid = precompiled((db: Executor, key: string) => db.selectFrom('servers').select(COLUMNS).where('servers.uuid', '=', key));

export class ServersRepository {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  async insert(s: { uuid: string; identifier: string; name: string; owner_id: number; node_id: number; backup_limit: number; backup_bytes_limit?: number | null; egg_id?: number | null; at: string }): Promise<ServerRow> {
    const r = await this.db.insertInto('servers')
      .values({ uuid: s.uuid, identifier: s.identifier, name: s.name, owner_id: s.owner_id, node_id: s.node_id, status: null, backup_limit: s.backup_limit, backup_bytes_limit: s.backup_bytes_limit ?? null, egg_id: s.egg_id ?? null, created_at: s.at, updated_at: s.at })
      .returning('id').executeTakeFirstOrThrow();
    return (await this.findById(r.id))!;
  }

  async findById(id: number): Promise<ServerRow | undefined> {
    return this.db.selectFrom('servers').select(COLUMNS).where('servers.id', '=', id).executeTakeFirst();
  }

  async findByUuid(uuid: string): Promise<ServerRow | undefined> {
    return this.db.selectFrom('servers').select(COLUMNS).where('servers.uuid', '=', uuid).executeTakeFirst();
  }

  /** Upstream's binding: an 8-character value is the short identifier, anything else the full uuid. */
  async findByRouteKey(key: string): Promise<ServerRow | undefined> {
    return (await (key.length === 8 ? byIdentifier : byUuid)(this.db, key.toLowerCase()))[0];
  }

  /**
   * Serialises concurrent writers on one server's backups (limit and throttle checks). PostgreSQL
   * takes a row lock; SQLite needs nothing because Kysely's SQLite driver runs one transaction at a
   * time on its single connection.
   */
  async lockForUpdate(id: number): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await this.db.selectFrom('servers').select('id').where('id', '=', id).forUpdate().execute();
  }

  async list(scope: ServerListScope, p: PageRequest): Promise<Page<ServerRow>> {
    let q = this.db.selectFrom('servers');
    if (scope.kind === 'owned') q = q.where('servers.owner_id', '=', scope.userId);
    if (scope.kind === 'accessible') {
      const userId = scope.userId;
      q = q.where((eb) => eb.or([
        eb('servers.owner_id', '=', userId),
        eb('servers.id', 'in', eb.selectFrom('subusers').select('subusers.server_id').where('subusers.user_id', '=', userId)),
      ]));
    }
    const rows = await q.select(COLUMNS).orderBy('servers.id').limit(p.perPage).offset(offsetOf(p)).execute();
    const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  async listByNode(nodeId: number, p: PageRequest): Promise<Page<ServerRow>> {
    const q = this.db.selectFrom('servers').where('servers.node_id', '=', nodeId);
    const rows = await q.select(COLUMNS).orderBy('servers.id').limit(p.perPage).offset(offsetOf(p)).execute();
    const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  /** Every server of a node (the reconciler compares them with what the node's daemon holds). */
  async allOnNode(nodeId: number): Promise<ServerRow[]> {
    return this.db.selectFrom('servers').select(COLUMNS).where('servers.node_id', '=', nodeId).orderBy('servers.id').execute();
  }

  async setStatus(id: number, status: string | null, at: string): Promise<void> {
    await this.db.updateTable('servers').set({ status, updated_at: at }).where('id', '=', id).execute();
  }

  /** Moves a server from `from` to `to` only if it is still in `from`; false when someone else won. */
  async transitionStatus(id: number, from: string | null, to: string | null, at: string): Promise<boolean> {
    let q = this.db.updateTable('servers').set({ status: to, updated_at: at }).where('id', '=', id);
    q = from === null ? q.where('status', 'is', null) : q.where('status', '=', from);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Servers that have sat in `status` since before `updatedBefore` (ISO). */
  async findInStatusSince(status: string, updatedBefore: string): Promise<ServerRow[]> {
    return this.db.selectFrom('servers').select(COLUMNS)
      .where('servers.status', '=', status).where('servers.updated_at', '<=', updatedBefore).orderBy('servers.id').execute();
  }

  /** Like transitionStatus, but only if the row was not touched since it was read (`updatedAt`). */
  async transitionStatusIfUnchanged(id: number, from: string, to: string | null, updatedAt: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('servers').set({ status: to, updated_at: at })
      .where('id', '=', id).where('status', '=', from).where('updated_at', '=', updatedAt).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Sets status to null for this node's servers currently in one of `statuses`; returns them. */
  async resetStatuses(nodeId: number, statuses: string[], at: string): Promise<ServerRow[]> {
    const rows = await this.db.selectFrom('servers').select(COLUMNS)
      .where('servers.node_id', '=', nodeId).where('servers.status', 'in', statuses).execute();
    if (rows.length > 0) {
      await this.db.updateTable('servers').set({ status: null, updated_at: at })
        .where('id', 'in', rows.map((r) => r.id)).execute();
    }
    return rows;
  }

  async update(id: number, patch: { name?: string; backup_limit?: number; backup_bytes_limit?: number | null; owner_id?: number; status?: string | null; egg_id?: number | null; at: string }): Promise<void> {
    await this.db.updateTable('servers').set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.backup_limit !== undefined ? { backup_limit: patch.backup_limit } : {}),
      ...(patch.backup_bytes_limit !== undefined ? { backup_bytes_limit: patch.backup_bytes_limit } : {}),
      ...(patch.owner_id !== undefined ? { owner_id: patch.owner_id } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.egg_id !== undefined ? { egg_id: patch.egg_id } : {}),
      updated_at: patch.at,
    }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('servers').where('id', '=', id).execute();
  }
}
