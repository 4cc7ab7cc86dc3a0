import type { Executor } from '../db/database.ts';
import type { NodeResticRow } from '../db/schema.ts';

export interface NodeResticValues {
  enabled: boolean;
  repository: string;
  /** Sealed. */
  password: string;
  s3_access_key_id: string | null;
  /** Sealed. */
  s3_secret_access_key: string | null;
  s3_region: string | null;
}

/** Each node's restic repository settings (one row per node; none = restic off). */
export class NodeResticRepository {
  constructor(private readonly db: Executor) {}

  find(nodeId: number): Promise<NodeResticRow | undefined> {
    return this.db.selectFrom('node_restic').selectAll().where('node_id', '=', nodeId).executeTakeFirst();
  }

  /** Any node's row for this repository location (the password is the repository's, not the node's). */
  findByRepository(repository: string): Promise<NodeResticRow | undefined> {
    return this.db.selectFrom('node_restic').selectAll().where('repository', '=', repository).orderBy('node_id').executeTakeFirst();
  }

  listEnabled(): Promise<NodeResticRow[]> {
    return this.db.selectFrom('node_restic').selectAll().where('enabled', '=', 1).orderBy('node_id').execute();
  }

  async upsert(nodeId: number, v: NodeResticValues, at: string): Promise<void> {
    const values = { ...v, enabled: v.enabled ? 1 : 0, updated_at: at };
    await this.db.insertInto('node_restic')
      .values({ node_id: nodeId, ...values, created_at: at })
      .onConflict((oc) => oc.column('node_id').doUpdateSet(values))
      .execute();
  }

  /** Every sealed value as stored, for `admin key rotate`. */
  async storedSecrets(column: 'password' | 's3_secret_access_key'): Promise<Array<{ id: number; value: string }>> {
    const rows = await this.db.selectFrom('node_restic').select(['id', column]).orderBy('id').execute();
    return rows.flatMap((r) => (r[column] ? [{ id: r.id, value: r[column] as string }] : []));
  }

  async setStoredSecret(id: number, column: 'password' | 's3_secret_access_key', sealed: string): Promise<void> {
    await this.db.updateTable('node_restic').set({ [column]: sealed }).where('id', '=', id).execute();
  }

  async addForgotten(nodeId: number, n: number, at: string): Promise<void> {
    await this.db.updateTable('node_restic').set((eb) => ({ forgotten_since_prune: eb('forgotten_since_prune', '+', n), updated_at: at })).where('node_id', '=', nodeId).execute();
  }

  async pruned(nodeId: number, at: string): Promise<void> {
    await this.db.updateTable('node_restic').set({ forgotten_since_prune: 0, last_prune_at: at, updated_at: at }).where('node_id', '=', nodeId).execute();
  }

  /**
   * Claims a due check: stamps last_check_at only if it is still older than `cutoff`, so panels
   * sharing the database run each check once. The result is filled in by `checked`.
   */
  async claimCheck(nodeId: number, cutoff: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('node_restic').set({ last_check_at: at, updated_at: at })
      .where('node_id', '=', nodeId)
      .where((eb) => eb.or([eb('last_check_at', 'is', null), eb('last_check_at', '<', cutoff)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Claims a prune of the `seen` forgotten snapshots (zeroes the count only if it is still `seen`). */
  async claimPrune(nodeId: number, seen: number, at: string): Promise<boolean> {
    const r = await this.db.updateTable('node_restic').set({ forgotten_since_prune: 0, last_prune_at: at, updated_at: at })
      .where('node_id', '=', nodeId).where('forgotten_since_prune', '=', seen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async checked(nodeId: number, ok: boolean, message: string | null, at: string): Promise<void> {
    await this.db.updateTable('node_restic').set({ last_check_at: at, last_check_ok: ok ? 1 : 0, last_check_message: message, updated_at: at }).where('node_id', '=', nodeId).execute();
  }
}
