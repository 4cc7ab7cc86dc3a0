import type { Executor } from '../db/database.ts';
import type { SubuserRow } from '../db/schema.ts';

const COLUMNS = ['subusers.id', 'subusers.user_id', 'subusers.server_id', 'subusers.permissions', 'subusers.created_at', 'subusers.updated_at'] as const;

export interface SubuserWithUser extends SubuserRow {
  user_uuid: string;
  email: string;
  username: string;
}

export class SubusersRepository {
  constructor(private readonly db: Executor) {}

  async insert(s: { user_id: number; server_id: number; permissions: string[]; at: string }): Promise<SubuserRow> {
    const r = await this.db.insertInto('subusers')
      .values({ user_id: s.user_id, server_id: s.server_id, permissions: JSON.stringify(s.permissions), created_at: s.at, updated_at: s.at })
      .returning('id').executeTakeFirstOrThrow();
    return (await this.db.selectFrom('subusers').select(COLUMNS).where('subusers.id', '=', r.id).executeTakeFirstOrThrow());
  }

  async find(userId: number, serverId: number): Promise<SubuserRow | undefined> {
    return this.db.selectFrom('subusers').select(COLUMNS).where('subusers.user_id', '=', userId).where('subusers.server_id', '=', serverId).executeTakeFirst();
  }

  async listByServer(serverId: number): Promise<SubuserWithUser[]> {
    return this.db.selectFrom('subusers').innerJoin('users', 'users.id', 'subusers.user_id')
      .select([...COLUMNS, 'users.uuid as user_uuid', 'users.email', 'users.username'])
      .where('subusers.server_id', '=', serverId).orderBy('subusers.id').execute();
  }

  async updatePermissions(id: number, permissions: string[], at: string): Promise<void> {
    await this.db.updateTable('subusers').set({ permissions: JSON.stringify(permissions), updated_at: at }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('subusers').where('id', '=', id).execute();
  }
}
