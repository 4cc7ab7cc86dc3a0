import type { Executor } from '../db/database.ts';
import type { SessionRow } from '../db/schema.ts';

const COLUMNS = ['id', 'id_hash', 'user_id', 'csrf_token', 'expires_at', 'created_at'] as const;

export class SessionsRepository {
  constructor(private readonly db: Executor) {}

  async insert(s: { id_hash: string; user_id: number; csrf_token: string; expires_at: string; at: string }): Promise<void> {
    await this.db.insertInto('sessions')
      .values({ id_hash: s.id_hash, user_id: s.user_id, csrf_token: s.csrf_token, expires_at: s.expires_at, created_at: s.at })
      .execute();
  }

  async findByHash(idHash: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').select(COLUMNS).where('id_hash', '=', idHash).executeTakeFirst();
  }

  async deleteByHash(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteExpired(now: string): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
