import type { SecretBox } from '../../core/secret-box.ts';
import { precompiled } from './precompiled.ts';
import type { Executor } from '../db/database.ts';
import type { NodeRow } from '../db/schema.ts';
import { openStored } from './stored-secret.ts';

const COLUMNS = ['id', 'uuid', 'name', 'url', 'daemon_token_id', 'daemon_token', 'maintenance', 'created_at', 'updated_at', 'destination_id', 'backup_ignore'] as const;

// Every client API request on a server reads its node: built once (precompiled.ts).
const byId = precompiled((db: Executor, id: number) => db.selectFrom('nodes').select(COLUMNS).where('id', '=', id));

/** `daemon_token` is sealed at rest (APP_KEY); rows come back with it open. */
export class NodesRepository {
  constructor(private readonly db: Executor, private readonly secrets: SecretBox) {}

  private open<T extends NodeRow | undefined>(row: T): T {
    return (row ? { ...row, daemon_token: openStored(this.secrets, row.daemon_token) } : row) as T;
  }

  async insert(n: { uuid: string; name: string; url: string; daemon_token_id: string; daemon_token: string; at: string }): Promise<NodeRow> {
    return this.open(await this.db.insertInto('nodes')
      .values({ uuid: n.uuid, name: n.name, url: n.url, daemon_token_id: n.daemon_token_id, daemon_token: this.secrets.seal(n.daemon_token), maintenance: 0, created_at: n.at, updated_at: n.at })
      .returning(COLUMNS).executeTakeFirstOrThrow());
  }

  async findById(id: number): Promise<NodeRow | undefined> {
    return this.open((await byId(this.db, id))[0]);
  }

  async findByUuid(uuid: string): Promise<NodeRow | undefined> {
    return this.open(await this.db.selectFrom('nodes').select(COLUMNS).where('uuid', '=', uuid).executeTakeFirst());
  }

  async findByName(name: string): Promise<NodeRow | undefined> {
    return this.open(await this.db.selectFrom('nodes').select(COLUMNS).where('name', '=', name).orderBy('id').executeTakeFirst());
  }

  async findByTokenId(tokenId: string): Promise<NodeRow | undefined> {
    return this.open(await this.db.selectFrom('nodes').select(COLUMNS).where('daemon_token_id', '=', tokenId).executeTakeFirst());
  }

  async list(): Promise<NodeRow[]> {
    return (await this.db.selectFrom('nodes').select(COLUMNS).orderBy('id').execute()).map((r) => this.open(r));
  }

  async update(id: number, patch: { name?: string; url?: string; maintenance?: boolean; daemon_token_id?: string; daemon_token?: string; backup_ignore?: string | null; at: string }): Promise<void> {
    await this.db.updateTable('nodes').set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.maintenance !== undefined ? { maintenance: patch.maintenance ? 1 : 0 } : {}),
      ...(patch.daemon_token_id !== undefined ? { daemon_token_id: patch.daemon_token_id } : {}),
      ...(patch.daemon_token !== undefined ? { daemon_token: this.secrets.seal(patch.daemon_token) } : {}),
      ...(patch.backup_ignore !== undefined ? { backup_ignore: patch.backup_ignore } : {}),
      updated_at: patch.at,
    }).where('id', '=', id).execute();
  }

  /** Stored token values as they are (sealed), for re-sealing under a new key. */
  async storedTokens(): Promise<Array<{ id: number; daemon_token: string }>> {
    return this.db.selectFrom('nodes').select(['id', 'daemon_token']).orderBy('id').execute();
  }

  async setStoredToken(id: number, sealed: string): Promise<void> {
    await this.db.updateTable('nodes').set({ daemon_token: sealed }).where('id', '=', id).execute();
  }

  async countServers(id: number): Promise<number> {
    const { n } = await this.db.selectFrom('servers').select((eb) => eb.fn.countAll<number>().as('n')).where('node_id', '=', id).executeTakeFirstOrThrow();
    return Number(n);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('nodes').where('id', '=', id).execute();
  }
}
