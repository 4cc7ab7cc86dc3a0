import type { Kysely } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { DB, DestinationResticUpkeepRow } from '../db/schema.ts';
import type { DestinationTables } from '../db/destinations.schema.ts';

/** A restic destination's repository as seen from one node that holds backups in it. */
export interface ResticDestinationHolder {
  destination_id: number;
  node_id: number;
  restic_repository: string;
}

/**
 * The upkeep state of restic destination repositories (prune counter, last prune, last check),
 * claimed the way node_restic's is (a conditional UPDATE), so panels sharing the database run
 * each prune and check once.
 */
export class DestinationResticUpkeepRepository {
  private readonly db: Kysely<DB & DestinationTables>;

  constructor(db: Executor) {
    this.db = db.withTables<DestinationTables>();
  }

  /** Every (restic destination, node) pair with a live successful backup in that destination. */
  holders(): Promise<ResticDestinationHolder[]> {
    return this.db.selectFrom('backups')
      .innerJoin('servers', 'servers.id', 'backups.server_id')
      .innerJoin('destinations', 'destinations.id', 'backups.destination_id')
      .select(['backups.destination_id as destination_id', 'servers.node_id as node_id', 'destinations.restic_repository as restic_repository'])
      .where('destinations.kind', '=', 'restic').where('backups.disk', '=', 'restic')
      .where('backups.is_successful', '=', 1).where('backups.deleted_at', 'is', null)
      .distinct().orderBy('destination_id').orderBy('node_id')
      .execute() as Promise<ResticDestinationHolder[]>;
  }

  /** Creates the row for a repository unless there is one (an s3: repository keeps its first node). */
  async ensure(key: string, destinationId: number, nodeId: number, at: string): Promise<void> {
    await this.db.insertInto('destination_restic_upkeep')
      .values({ repository_key: key, destination_id: destinationId, node_id: nodeId, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('repository_key').doNothing())
      .execute();
  }

  find(key: string): Promise<DestinationResticUpkeepRow | undefined> {
    return this.db.selectFrom('destination_restic_upkeep').selectAll().where('repository_key', '=', key).executeTakeFirst();
  }

  list(): Promise<DestinationResticUpkeepRow[]> {
    return this.db.selectFrom('destination_restic_upkeep').selectAll().orderBy('node_id').orderBy('destination_id').execute();
  }

  listForDestination(destinationId: number): Promise<Array<DestinationResticUpkeepRow & { node_uuid: string; node_name: string }>> {
    return this.db.selectFrom('destination_restic_upkeep')
      .innerJoin('nodes', 'nodes.id', 'destination_restic_upkeep.node_id')
      .selectAll('destination_restic_upkeep').select(['nodes.uuid as node_uuid', 'nodes.name as node_name'])
      .where('destination_restic_upkeep.destination_id', '=', destinationId).orderBy('destination_restic_upkeep.node_id').execute();
  }

  async addForgotten(key: string, n: number, at: string): Promise<void> {
    await this.db.updateTable('destination_restic_upkeep').set((eb) => ({ forgotten_since_prune: eb('forgotten_since_prune', '+', n), updated_at: at })).where('repository_key', '=', key).execute();
  }

  /** Claims a prune of the `seen` forgotten snapshots (zeroes the count only if it is still `seen`). */
  async claimPrune(key: string, seen: number, at: string): Promise<boolean> {
    const r = await this.db.updateTable('destination_restic_upkeep').set({ forgotten_since_prune: 0, last_prune_at: at, updated_at: at })
      .where('repository_key', '=', key).where('forgotten_since_prune', '=', seen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Claims a due check: stamps last_check_at only if it is still older than `cutoff`. */
  async claimCheck(key: string, cutoff: string, at: string): Promise<boolean> {
    const r = await this.db.updateTable('destination_restic_upkeep').set({ last_check_at: at, updated_at: at })
      .where('repository_key', '=', key)
      .where((eb) => eb.or([eb('last_check_at', 'is', null), eb('last_check_at', '<', cutoff)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async checked(key: string, ok: boolean, message: string | null, at: string): Promise<void> {
    await this.db.updateTable('destination_restic_upkeep').set({ last_check_at: at, last_check_ok: ok ? 1 : 0, last_check_message: message, updated_at: at }).where('repository_key', '=', key).execute();
  }
}
