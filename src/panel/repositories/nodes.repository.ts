import type { Executor } from '../db/database.ts';
import type { NodeRow } from '../db/schema.ts';

const COLUMNS = ['id', 'uuid', 'name', 'url', 'daemon_token_id', 'daemon_token', 'maintenance', 'created_at', 'updated_at', 'destination_id', 'backup_ignore'] as const;

export class NodesRepository {
  constructor(private readonly db: Executor) {}

  async insert(n: { uuid: string; name: string; url: string; daemon_token_id: string; daemon_token: string; at: string }): Promise<NodeRow> {
    return this.db.insertInto('nodes')
      .values({ uuid: n.uuid, name: n.name, url: n.url, daemon_token_id: n.daemon_token_id, daemon_token: n.daemon_token, maintenance: 0, created_at: n.at, updated_at: n.at })
      .returning(COLUMNS).executeTakeFirstOrThrow();
  }

  async findById(id: number): Promise<NodeRow | undefined> {
    return this.db.selectFrom('nodes').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async findByUuid(uuid: string): Promise<NodeRow | undefined> {
    return this.db.selectFrom('nodes').select(COLUMNS).where('uuid', '=', uuid).executeTakeFirst();
  }

  async findByName(name: string): Promise<NodeRow | undefined> {
    return this.db.selectFrom('nodes').select(COLUMNS).where('name', '=', name).orderBy('id').executeTakeFirst();
  }

  async findByTokenId(tokenId: string): Promise<NodeRow | undefined> {
    return this.db.selectFrom('nodes').select(COLUMNS).where('daemon_token_id', '=', tokenId).executeTakeFirst();
  }

  async list(): Promise<NodeRow[]> {
    return this.db.selectFrom('nodes').select(COLUMNS).orderBy('id').execute();
  }

  async update(id: number, patch: { name?: string; url?: string; maintenance?: boolean; daemon_token_id?: string; daemon_token?: string; backup_ignore?: string | null; at: string }): Promise<void> {
    await this.db.updateTable('nodes').set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.maintenance !== undefined ? { maintenance: patch.maintenance ? 1 : 0 } : {}),
      ...(patch.daemon_token_id !== undefined ? { daemon_token_id: patch.daemon_token_id } : {}),
      ...(patch.daemon_token !== undefined ? { daemon_token: patch.daemon_token } : {}),
      ...(patch.backup_ignore !== undefined ? { backup_ignore: patch.backup_ignore } : {}),
      updated_at: patch.at,
    }).where('id', '=', id).execute();
  }

  async countServers(id: number): Promise<number> {
    const { n } = await this.db.selectFrom('servers').select((eb) => eb.fn.countAll<number>().as('n')).where('node_id', '=', id).executeTakeFirstOrThrow();
    return Number(n);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('nodes').where('id', '=', id).execute();
  }
}
