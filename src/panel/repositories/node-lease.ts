import type { Executor } from '../db/database.ts';

/** Tables holding one lease row per node: which panel process works on the node now. */
export type NodeLeaseTable = 'reconcile_leases' | 'verification_leases';

/**
 * Takes or extends the node's lease until `until`; false when another process holds it. The row is
 * made if missing, then won with a conditional UPDATE (free, expired, or already this holder's), so
 * of the panels sharing a database exactly one wins, whatever the database.
 */
// Both tables have node_id, holder and until; Kysely types statements one table at a time, hence the casts.
export async function claimNodeLease(db: Executor, table: NodeLeaseTable, nodeId: number, holder: string, now: string, until: string): Promise<boolean> {
  await db.insertInto(table as 'verification_leases').values({ node_id: nodeId, holder: null, until: null })
    .onConflict((oc) => oc.column('node_id').doNothing()).execute();
  const r = await db.updateTable(table as 'verification_leases').set({ holder, until })
    .where('node_id', '=', nodeId)
    .where((eb) => eb.or([eb('until', 'is', null), eb('until', '<', now), eb('holder', '=', holder)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
