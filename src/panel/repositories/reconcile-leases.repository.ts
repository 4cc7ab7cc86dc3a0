import type { Executor } from '../db/database.ts';

/**
 * Who reconciles which node. A panel process works on a node only after winning its row with a
 * conditional UPDATE (free, expired, or already its own), so panels sharing a database split the
 * nodes between them instead of acting twice; a process that dies frees its nodes at `until`.
 */
export class ReconcileLeasesRepository {
  constructor(private readonly db: Executor) {}

  async claim(nodeId: number, holder: string, now: string, until: string): Promise<boolean> {
    await this.db.insertInto('reconcile_leases').values({ node_id: nodeId, holder: null, until: null, last_run_at: null })
      .onConflict((oc) => oc.column('node_id').doNothing()).execute();
    const r = await this.db.updateTable('reconcile_leases').set({ holder, until })
      .where('node_id', '=', nodeId)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '<', now), eb('holder', '=', holder)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Ends a run: the lease stays until `until` so another process does not redo the pass at once. */
  async finish(nodeId: number, holder: string, at: string): Promise<void> {
    await this.db.updateTable('reconcile_leases').set({ last_run_at: at }).where('node_id', '=', nodeId).where('holder', '=', holder).execute();
  }

  /** Gives the node up at once (a nudge from a node that just came back must not wait out the lease). */
  async release(nodeId: number, holder: string): Promise<void> {
    await this.db.updateTable('reconcile_leases').set({ until: null }).where('node_id', '=', nodeId).where('holder', '=', holder).execute();
  }
}
