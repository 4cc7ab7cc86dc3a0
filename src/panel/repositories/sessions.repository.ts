import type { Executor } from '../db/database.ts';
import type { SessionRow, UserRow } from '../db/schema.ts';
import { precompiled } from './precompiled.ts';
import { USER_COLUMNS_AS, userOf } from './user-join.ts';

const COLUMNS = ['id', 'id_hash', 'user_id', 'csrf_token', 'expires_at', 'created_at'] as const;

// Every browser request starts here: the session and its user in one query, built once (precompiled.ts).
const byHashWithUser = precompiled((db: Executor, idHash: string) => db.selectFrom('sessions')
  .innerJoin('users', 'users.id', 'sessions.user_id')
  .select([...COLUMNS.map((c) => `sessions.${c}` as const), ...USER_COLUMNS_AS])
  .where('sessions.id_hash', '=', idHash));

export class SessionsRepository {
  constructor(private readonly db: Executor) {}

  async insert(s: { id_hash: string; user_id: number; csrf_token: string; expires_at: string; at: string }): Promise<void> {
    await this.db.insertInto('sessions')
      .values({ id_hash: s.id_hash, user_id: s.user_id, csrf_token: s.csrf_token, expires_at: s.expires_at, created_at: s.at })
      .execute();
  }

  /** A session with its user (deleting a user deletes their sessions). */
  async findWithUser(idHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const row = (await byHashWithUser(this.db, idHash))[0];
    if (!row) return undefined;
    const session: SessionRow = { id: row.id, id_hash: row.id_hash, user_id: row.user_id, csrf_token: row.csrf_token, expires_at: row.expires_at, created_at: row.created_at };
    return { session, user: userOf(row) };
  }

  async deleteByHash(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteExpired(now: string): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
