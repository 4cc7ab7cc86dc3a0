import type { Executor } from '../db/database.ts';

/**
 * Which panel process re-verifies which node's backups (issue 17). A process verifies on a node only
 * after winning the node's row with a conditional UPDATE (free, expired, or already its own), so
 * panels sharing a database never read the same backup back twice in a round, and a node still sees
 * one verification at a time; a process that dies frees its nodes at `until`.
 */
export class VerificationLeasesRepository {
  constructor(private readonly db: Executor) {}

  /** Takes or extends the node's lease until `until`; false when another process holds it. */
  async claim(nodeId: number, holder: string, now: string, until: string): Promise<boolean> {
    await this.db.insertInto('verification_leases').values({ node_id: nodeId, holder: null, until: null })
      .onConflict((oc) => oc.column('node_id').doNothing()).execute();
    const r = await this.db.updateTable('verification_leases').set({ holder, until })
      .where('node_id', '=', nodeId)
      .where((eb) => eb.or([eb('until', 'is', null), eb('until', '<', now), eb('holder', '=', holder)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The pass on the node is over: another process may take it at once. */
  async release(nodeId: number, holder: string): Promise<void> {
    await this.db.updateTable('verification_leases').set({ holder: null, until: null }).where('node_id', '=', nodeId).where('holder', '=', holder).execute();
  }
}
