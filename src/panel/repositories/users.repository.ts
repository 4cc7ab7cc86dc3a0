import { precompiled } from './precompiled.ts';
import type { Executor } from '../db/database.ts';
import type { UserRow } from '../db/schema.ts';
import { offsetOf, type Page, type PageRequest } from './page.ts';

const COLUMNS = ['id', 'uuid', 'email', 'username', 'password_hash', 'root_admin', 'created_at', 'updated_at'] as const;

export interface NewUserRow {
  uuid: string;
  email: string;
  username: string;
  password_hash: string;
  root_admin: boolean;
  at: string;
}

// Every authenticated request reads its user: built once (precompiled.ts).
const byId = precompiled((db: Executor, id: number) => db.selectFrom('users').select(COLUMNS).where('id', '=', id));

export class UsersRepository {
  constructor(private readonly db: Executor) {}

  async insert(u: NewUserRow): Promise<UserRow> {
    return this.db.insertInto('users')
      .values({ uuid: u.uuid, email: u.email, username: u.username, password_hash: u.password_hash, root_admin: u.root_admin ? 1 : 0, created_at: u.at, updated_at: u.at })
      .returning(COLUMNS).executeTakeFirstOrThrow();
  }

  async findById(id: number): Promise<UserRow | undefined> {
    return (await byId(this.db, id))[0];
  }

  async findByUuid(uuid: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').select(COLUMNS).where('uuid', '=', uuid).executeTakeFirst();
  }

  /** Emails are stored lowercased, so this is a case-insensitive lookup. */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').select(COLUMNS).where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').select(COLUMNS).where('username', '=', username).executeTakeFirst();
  }

  async list(p: PageRequest): Promise<Page<UserRow>> {
    const rows = await this.db.selectFrom('users').select(COLUMNS).orderBy('id').limit(p.perPage).offset(offsetOf(p)).execute();
    const { n } = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  async update(id: number, patch: { email?: string; username?: string; password_hash?: string; root_admin?: boolean; at: string }): Promise<void> {
    await this.db.updateTable('users').set({
      ...(patch.email !== undefined ? { email: patch.email } : {}),
      ...(patch.username !== undefined ? { username: patch.username } : {}),
      ...(patch.password_hash !== undefined ? { password_hash: patch.password_hash } : {}),
      ...(patch.root_admin !== undefined ? { root_admin: patch.root_admin ? 1 : 0 } : {}),
      updated_at: patch.at,
    }).where('id', '=', id).execute();
  }

  async countOwnedServers(id: number): Promise<number> {
    const { n } = await this.db.selectFrom('servers').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_id', '=', id).executeTakeFirstOrThrow();
    return Number(n);
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}
