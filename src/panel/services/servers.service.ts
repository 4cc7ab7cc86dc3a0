import { randomUUID } from 'node:crypto';
import type { NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors, validName } from '../errors.ts';
import type { Page } from '../repositories/page.ts';
import type { ServerListScope } from '../repositories/servers.repository.ts';
import { isoNow, nodeConnection, type ServiceDeps } from './deps.ts';

export interface PublicServer {
  id: number;
  uuid: string;
  identifier: string;
  name: string;
  ownerId: number;
  nodeId: number;
  status: string | null;
  backupLimit: number;
  /** Storage quota in bytes for the server's backups (issue 17); null = none. */
  backupBytesLimit: number | null;
  /** The game type (egg id) the server was made from (issue 17); null = none known. */
  eggId: number | null;
  createdAt: string;
}

export function toPublicServer(s: ServerRow): PublicServer {
  return { id: s.id, uuid: s.uuid, identifier: s.identifier, name: s.name, ownerId: s.owner_id, nodeId: s.node_id, status: s.status, backupLimit: s.backup_limit, backupBytesLimit: bytesLimitOf(s), eggId: s.egg_id ?? null, createdAt: s.created_at };
}

/** PostgreSQL returns bigint as text. */
export function bytesLimitOf(s: Pick<ServerRow, 'backup_bytes_limit'>): number | null {
  const v = s.backup_bytes_limit;
  return v === null || v === undefined || Number(v) <= 0 ? null : Number(v);
}

/** null, absent or 0 = no quota; else whole bytes. */
export function normaliseBackupBytesLimit(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw PanelErrors.validation('backup_bytes', 'integer', 'The backup storage quota must be a whole number of bytes (0 or null for none).');
  }
  return n === 0 ? null : n;
}

export const MAX_BACKUP_LIMIT = 2_147_483_647;

/** Upstream stores a null/absent limit as 0 (which disables backups). */
export function normaliseBackupLimit(v: unknown): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw PanelErrors.validation('backup_limit', 'integer', 'The backup limit must be an integer of at least 0.');
  }
  // The column is a 32-bit integer on PostgreSQL; beyond it the insert itself would fail.
  if (n > MAX_BACKUP_LIMIT) throw PanelErrors.validation('backup_limit', 'max', `The backup limit must not be greater than ${MAX_BACKUP_LIMIT}.`);
  return n;
}

export class ServersService {
  constructor(private readonly d: ServiceDeps) {}

  /**
   * Creates the row, then tells the node's daemon. When the daemon refuses or cannot be reached the
   * row is removed again and the daemon's error is thrown: a server the daemon does not know would
   * fail every backup later.
   */
  async create(input: { name: string; ownerId: number; nodeId: number; backupLimit?: number | null; backupBytesLimit?: number | null; eggId?: number | null; uuid?: string }): Promise<PublicServer> {
    const name = validName(input.name);
    const eggId = await this.#eggOf(input.eggId);
    const backupLimit = normaliseBackupLimit(input.backupLimit);
    const backupBytesLimit = normaliseBackupBytesLimit(input.backupBytesLimit);
    if (!(await this.d.repos.users.findById(input.ownerId))) throw PanelErrors.validation('owner_id', 'exists', 'The selected owner does not exist.');
    const node = await this.d.repos.nodes.findById(input.nodeId);
    if (!node) throw PanelErrors.validation('node_id', 'exists', 'The selected node does not exist.');

    const at = isoNow(this.d.clock);
    let row: ServerRow | undefined;
    for (let attempt = 0; attempt < 5 && !row; attempt++) {
      const uuid = input.uuid ?? randomUUID();
      const identifier = uuid.slice(0, 8);
      if ((await this.d.repos.servers.findByUuid(uuid)) || (await this.d.repos.servers.findByRouteKey(identifier))) {
        if (input.uuid) throw PanelErrors.validation('uuid', 'unique', 'The uuid has already been taken.');
        continue;
      }
      row = await this.d.repos.servers.insert({ uuid, identifier, name, owner_id: input.ownerId, node_id: node.id, backup_limit: backupLimit, backup_bytes_limit: backupBytesLimit, egg_id: eggId, at });
    }
    if (!row) throw PanelErrors.unexpected();
    try {
      await this.d.daemon.createServer(nodeConnection(node), row.uuid);
    } catch (err) {
      await this.d.repos.servers.delete(row.id);
      throw err;
    }
    return toPublicServer(row);
  }

  async findById(id: number): Promise<PublicServer | undefined> {
    const s = await this.d.repos.servers.findById(id);
    return s && toPublicServer(s);
  }

  /** By uuid or 8-character identifier. */
  async find(ref: string): Promise<PublicServer | undefined> {
    const s = await this.d.repos.servers.findByRouteKey(ref);
    return s && toPublicServer(s);
  }

  async list(scope: ServerListScope, page = 1, perPage = 50): Promise<Page<PublicServer>> {
    const r = await this.d.repos.servers.list(scope, { page, perPage });
    return { rows: r.rows.map(toPublicServer), total: r.total };
  }

  async update(id: number, patch: { name?: string; backupLimit?: number | null; backupBytesLimit?: number | null; ownerId?: number; eggId?: number | null }): Promise<PublicServer> {
    const s = await this.d.repos.servers.findById(id);
    if (!s) throw PanelErrors.resourceNotFound();
    const eggId = patch.eggId === undefined ? undefined : await this.#eggOf(patch.eggId);
    await this.d.repos.servers.update(id, {
      egg_id: eggId,
      name: patch.name === undefined ? undefined : validName(patch.name),
      backup_limit: patch.backupLimit === undefined ? undefined : normaliseBackupLimit(patch.backupLimit),
      backup_bytes_limit: patch.backupBytesLimit === undefined ? undefined : normaliseBackupBytesLimit(patch.backupBytesLimit),
      owner_id: patch.ownerId,
      at: isoNow(this.d.clock),
    });
    return toPublicServer((await this.d.repos.servers.findById(id))!);
  }

  /** null/absent/0 = none; any other id must be an egg the admin has set up (422 like upstream's). */
  async #eggOf(id: number | null | undefined): Promise<number | null> {
    if (id === null || id === undefined || id === 0) return null;
    if (!Number.isSafeInteger(id) || id < 0 || !(await this.d.repos.eggs.findById(id))) throw PanelErrors.validation('egg', 'exists', 'The selected egg is invalid.');
    return id;
  }

  async setSuspended(id: number, suspended: boolean): Promise<PublicServer> {
    const s = await this.d.repos.servers.findById(id);
    if (!s) throw PanelErrors.resourceNotFound();
    if (suspended) await this.d.repos.servers.setStatus(id, 'suspended', isoNow(this.d.clock));
    else if (s.status === 'suspended') await this.d.repos.servers.setStatus(id, null, isoNow(this.d.clock));
    return toPublicServer((await this.d.repos.servers.findById(id))!);
  }

  async setStatus(id: number, status: string | null): Promise<void> {
    await this.d.repos.servers.setStatus(id, status, isoNow(this.d.clock));
  }

  /** Removes the row (backup rows cascade). The daemon keeps its files; removing those is an operator's call. */
  async delete(id: number): Promise<void> {
    await this.d.repos.servers.delete(id);
  }

  async nodeOf(server: { nodeId: number } | ServerRow): Promise<NodeRow> {
    const nodeId = 'nodeId' in server ? server.nodeId : server.node_id;
    const node = await this.d.repos.nodes.findById(nodeId);
    if (!node) throw PanelErrors.unexpected();
    return node;
  }
}
