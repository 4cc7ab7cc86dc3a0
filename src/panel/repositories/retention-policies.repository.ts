import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Executor } from '../db/database.ts';
import type { RetentionPolicyRow, ScheduleTables } from '../db/schedules.schema.ts';

const COLUMNS = ['retention_policies.id', 'retention_policies.server_id', 'retention_policies.keep_last', 'retention_policies.keep_hourly', 'retention_policies.keep_daily', 'retention_policies.keep_weekly', 'retention_policies.keep_monthly', 'retention_policies.applied_through', 'retention_policies.created_at', 'retention_policies.updated_at'] as const;

export interface RetentionValues {
  keep_last: number | null;
  keep_hourly: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
}

export class RetentionPoliciesRepository {
  private readonly db: Kysely<DB & ScheduleTables>;

  constructor(db: Executor) {
    this.db = db.withTables<ScheduleTables>();
  }

  async findForServer(serverId: number): Promise<RetentionPolicyRow | undefined> {
    return this.db.selectFrom('retention_policies').select(COLUMNS).where('retention_policies.server_id', '=', serverId).executeTakeFirst();
  }

  /**
   * Saves the policy. applied_through starts at the newest existing completion (passed in) so that
   * saving a policy does not itself delete anything: it takes effect after the next successful
   * backup, and the preview endpoint shows what that will do.
   */
  async upsert(serverId: number, v: RetentionValues, appliedThrough: string | null, at: string): Promise<void> {
    await this.db.insertInto('retention_policies')
      .values({ server_id: serverId, ...v, applied_through: appliedThrough, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('server_id').doUpdateSet({ ...v, applied_through: appliedThrough, updated_at: at }))
      .execute();
  }

  /**
   * Servers with an active policy that have a successful backup completed after the policy was
   * last applied, with the newest such completion. One query for the whole panel per tick.
   */
  async listPending(serverId?: number): Promise<Array<{ server_id: number; applied_through: string | null; newest: string }>> {
    let q = this.db.selectFrom('retention_policies');
    if (serverId !== undefined) q = q.where('retention_policies.server_id', '=', serverId);
    const rows = await q
      .innerJoin('backups', 'backups.server_id', 'retention_policies.server_id')
      .select((eb) => ['retention_policies.server_id', 'retention_policies.applied_through', eb.fn.max<string>('backups.completed_at').as('newest')])
      .where('backups.is_successful', '=', 1).where('backups.deleted_at', 'is', null).where('backups.completed_at', 'is not', null)
      .where((eb) => eb.or([eb('retention_policies.applied_through', 'is', null), eb('backups.completed_at', '>', eb.ref('retention_policies.applied_through'))]))
      .where((eb) => eb.or([
        eb('retention_policies.keep_last', '>', 0), eb('retention_policies.keep_hourly', '>', 0), eb('retention_policies.keep_daily', '>', 0),
        eb('retention_policies.keep_weekly', '>', 0), eb('retention_policies.keep_monthly', '>', 0),
      ]))
      .groupBy(['retention_policies.server_id', 'retention_policies.applied_through'])
      .orderBy('retention_policies.server_id')
      .execute();
    return rows.map((r) => ({ server_id: r.server_id, applied_through: r.applied_through, newest: r.newest }));
  }

  /** Newest completion among a server's live successful backups (null when none). */
  async newestSuccessfulCompletion(serverId: number): Promise<string | null> {
    const r = await this.db.selectFrom('backups').select((eb) => eb.fn.max<string | null>('backups.completed_at').as('newest'))
      .where('backups.server_id', '=', serverId).where('backups.is_successful', '=', 1).where('backups.deleted_at', 'is', null)
      .executeTakeFirst();
    return r?.newest ?? null;
  }

  /** Claims one application of the policy; of several panel processes exactly one wins. */
  async claimApplication(serverId: number, from: string | null, through: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('retention_policies').set({ applied_through: through, updated_at: at })
      .where('server_id', '=', serverId)
      .where((eb) => (from === null ? eb('applied_through', 'is', null) : eb('applied_through', '=', from)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
