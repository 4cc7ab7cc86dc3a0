import type { Executor } from '../db/database.ts';
import type { ServerSaveHookRow } from '../db/schema.ts';
import type { SaveHook } from '../../wire/server-control.ts';

function list(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export function toSaveHook(row: ServerSaveHookRow): SaveHook {
  return row.preset === 'custom' ? { preset: 'custom', before: list(row.before_commands), after: list(row.after_commands) } : { preset: row.preset };
}

/** Each server's save hook as its owner chose it; no row = the node's default. */
export class ServerSaveHooksRepository {
  constructor(private readonly db: Executor) {}

  async find(serverId: number): Promise<SaveHook | null> {
    const row = await this.db.selectFrom('server_save_hooks').selectAll().where('server_id', '=', serverId).executeTakeFirst();
    return row ? toSaveHook(row) : null;
  }

  /** Insert or replace, portable across SQLite and PostgreSQL (both know ON CONFLICT). */
  async upsert(serverId: number, hook: SaveHook, at: string): Promise<void> {
    const values = {
      preset: hook.preset,
      before_commands: JSON.stringify(hook.before ?? []),
      after_commands: JSON.stringify(hook.after ?? []),
      updated_at: at,
    };
    await this.db.insertInto('server_save_hooks')
      .values({ server_id: serverId, ...values, created_at: at })
      .onConflict((oc) => oc.column('server_id').doUpdateSet(values))
      .execute();
  }

  async remove(serverId: number): Promise<void> {
    await this.db.deleteFrom('server_save_hooks').where('server_id', '=', serverId).execute();
  }
}
