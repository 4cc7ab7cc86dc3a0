import type { Executor } from '../db/database.ts';
import type { EggRow } from '../db/schema.ts';

/** Game types (Pterodactyl's eggs) and their default ignore patterns (issue 17). */
export class EggsRepository {
  constructor(private readonly db: Executor) {}

  findById(id: number): Promise<EggRow | undefined> {
    return this.db.selectFrom('eggs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(): Promise<EggRow[]> {
    return this.db.selectFrom('eggs').selectAll().orderBy('id').execute();
  }

  /** Creates the egg or updates the fields given (an egg id is Pterodactyl's, chosen by the admin). */
  async upsert(egg: { id: number; nest_id?: number; name?: string; backup_ignore?: string | null; at: string }): Promise<void> {
    const set = {
      ...(egg.nest_id !== undefined ? { nest_id: egg.nest_id } : {}),
      ...(egg.name !== undefined ? { name: egg.name } : {}),
      ...(egg.backup_ignore !== undefined ? { backup_ignore: egg.backup_ignore } : {}),
      updated_at: egg.at,
    };
    await this.db.insertInto('eggs')
      .values({ id: egg.id, nest_id: egg.nest_id ?? 0, name: egg.name ?? `Egg ${egg.id}`, backup_ignore: egg.backup_ignore ?? null, created_at: egg.at, updated_at: egg.at })
      .onConflict((oc) => oc.column('id').doUpdateSet(set))
      .execute();
  }

  async delete(id: number): Promise<boolean> {
    const r = await this.db.deleteFrom('eggs').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
