import type { Executor } from '../db/database.ts';
import { claimNodeLease } from './node-lease.ts';

/**
 * Which panel process re-verifies which node's backups (issue 17). A process verifies on a node only
 * after winning the node's row with a conditional UPDATE (free, expired, or already its own), so
 * panels sharing a database never read the same backup back twice in a round, and a node still sees
 * one verification at a time; a process that dies frees its nodes at `until`.
 */
export class VerificationLeasesRepository {
  constructor(private readonly db: Executor) {}

  /** Takes or extends the node's lease until `until`; false when another process holds it. */
  claim(nodeId: number, holder: string, now: string, until: string): Promise<boolean> {
    return claimNodeLease(this.db, 'verification_leases', nodeId, holder, now, until);
  }

  /** The pass on the node is over: another process may take it at once. */
  async release(nodeId: number, holder: string): Promise<void> {
    await this.db.updateTable('verification_leases').set({ holder: null, until: null }).where('node_id', '=', nodeId).where('holder', '=', holder).execute();
  }
}
