import type { Executor } from '../db/database.ts';
import { claimNodeLease } from './node-lease.ts';

/**
 * Who reconciles which node. A panel process works on a node only after winning its row with a
 * conditional UPDATE (free, expired, or already its own), so panels sharing a database split the
 * nodes between them instead of acting twice; a process that dies frees its nodes at `until`.
 */
export class ReconcileLeasesRepository {
  constructor(private readonly db: Executor) {}

  claim(nodeId: number, holder: string, now: string, until: string): Promise<boolean> {
    return claimNodeLease(this.db, 'reconcile_leases', nodeId, holder, now, until);
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
