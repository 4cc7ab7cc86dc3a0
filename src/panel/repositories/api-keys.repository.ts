import { precompiled } from './precompiled.ts';
import type { Executor } from '../db/database.ts';
import type { ApiKeyRow, UserRow } from '../db/schema.ts';
import { USER_COLUMNS_AS, userOf } from './user-join.ts';

const COLUMNS = ['id', 'user_id', 'key_type', 'identifier', 'token_hash', 'memo', 'last_used_at', 'created_at'] as const;

/** A key's columns under `k_` aliases, for queries that read it beside other tables (keyOf turns them back). */
export const KEY_COLUMNS_AS = [
  'api_keys.id as k_id', 'api_keys.user_id as k_user_id', 'api_keys.key_type as k_key_type', 'api_keys.identifier as k_identifier',
  'api_keys.token_hash as k_token_hash', 'api_keys.memo as k_memo', 'api_keys.last_used_at as k_last_used_at', 'api_keys.created_at as k_created_at',
] as const;

export function keyOf(r: { k_id: number; k_user_id: number; k_key_type: ApiKeyRow['key_type']; k_identifier: string; k_token_hash: string; k_memo: string; k_last_used_at: string | null; k_created_at: string }): ApiKeyRow {
  return { id: r.k_id, user_id: r.k_user_id, key_type: r.k_key_type, identifier: r.k_identifier, token_hash: r.k_token_hash, memo: r.k_memo, last_used_at: r.k_last_used_at, created_at: r.k_created_at };
}

// Every client API request by key starts here: the key and its user in one query, built once
// (precompiled.ts). One round trip fewer per request matters most on PostgreSQL.
const byIdentifierWithUser = precompiled((db: Executor, identifier: string) => db.selectFrom('api_keys')
  .innerJoin('users', 'users.id', 'api_keys.user_id')
  .select([...COLUMNS.map((c) => `api_keys.${c}` as const), ...USER_COLUMNS_AS])
  .where('api_keys.identifier', '=', identifier));

export class ApiKeysRepository {
  constructor(private readonly db: Executor) {}

  async insert(k: { user_id: number; key_type: 'client' | 'application'; identifier: string; token_hash: string; memo: string; at: string }): Promise<ApiKeyRow> {
    return this.db.insertInto('api_keys')
      .values({ user_id: k.user_id, key_type: k.key_type, identifier: k.identifier, token_hash: k.token_hash, memo: k.memo, last_used_at: null, created_at: k.at })
      .returning(COLUMNS).executeTakeFirstOrThrow();
  }

  async findByIdentifier(identifier: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').select(COLUMNS).where('identifier', '=', identifier).executeTakeFirst();
  }

  /** A key with its user (a key always has one: deleting a user deletes their keys). */
  async findWithUser(identifier: string): Promise<{ key: ApiKeyRow; user: UserRow } | undefined> {
    const row = (await byIdentifierWithUser(this.db, identifier))[0];
    if (!row) return undefined;
    const key: ApiKeyRow = { id: row.id, user_id: row.user_id, key_type: row.key_type, identifier: row.identifier, token_hash: row.token_hash, memo: row.memo, last_used_at: row.last_used_at, created_at: row.created_at };
    return { key, user: userOf(row) };
  }

  async listByUser(userId: number): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').select(COLUMNS).where('user_id', '=', userId).orderBy('id').execute();
  }

  async touch(id: number, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async delete(userId: number, identifier: string): Promise<boolean> {
    const r = await this.db.deleteFrom('api_keys').where('user_id', '=', userId).where('identifier', '=', identifier).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
