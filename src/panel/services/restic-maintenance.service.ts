/**
 * restic upkeep off the hot path (docs/restic.md): deleting a restic backup only `forget`s its
 * snapshot; the data goes when the repository is pruned, here, once enough was forgotten or once
 * a day. And a `restic check --read-data-subset` per repository, its result kept on its row
 * (application API, `backwing admin node restic`), counted in the metrics, and a failed check
 * queued as a notification like a failed backup.
 *
 * Two kinds of repository: each node's own (node_restic) and each restic destination's
 * (destination_restic_upkeep: a path repository per node holding backups in it, an `s3:` one once,
 * through the first node that held backups in it). Both are claimed by a conditional UPDATE of
 * their row, so panels sharing the database run each prune and check once; one pass runs them
 * one after the other, so a node never runs two at a time for this panel.
 */
import { errorMessage } from '../../core/app-error.ts';
import { RESTIC_DEFAULTS } from '../config.ts';
import type { DestinationResticUpkeepRow, NodeResticRow } from '../db/schema.ts';
import type { DestinationRow } from '../db/destinations.schema.ts';
import { genericBody } from '../notify/bodies.ts';
import type { NewDelivery } from '../repositories/notifications.repository.ts';
import type { DaemonResticRepo } from '../../wire/daemon-api.ts';
import { isoNow, nodeConnection, type ServiceDeps } from './deps.ts';
import { resticUpkeepKey, ResticService } from './restic.service.ts';

export interface MaintenanceOutcome {
  nodeId: number;
  /** Set for a restic destination's repository; absent for the node's own. */
  destinationId?: number;
  action: 'prune' | 'check';
  ok: boolean;
  message: string | null;
}

/** One repository's upkeep state and how to claim and record it, whichever table it lives in. */
interface UpkeepTarget {
  nodeId: number;
  destinationId?: number;
  /** For logs and the notification: which repository. */
  label: string;
  forgotten: number;
  lastPruneAt: string | null;
  repo(): DaemonResticRepo;
  claimPrune(seen: number, at: string): Promise<boolean>;
  addForgotten(n: number, at: string): Promise<void>;
  claimCheck(cutoff: string, at: string): Promise<boolean>;
  checked(ok: boolean, message: string | null, at: string): Promise<void>;
  metric(nodeUuid: string, ok: boolean): void;
}

export class ResticMaintenanceService {
  readonly #restic: ResticService;
  constructor(private readonly d: ServiceDeps) {
    this.#restic = new ResticService(d);
  }

  get config() {
    return this.d.config.restic ?? RESTIC_DEFAULTS;
  }

  /** One pass over every enabled node repository and every restic destination repository. */
  async runOnce(now: Date = this.d.clock()): Promise<MaintenanceOutcome[]> {
    const out: MaintenanceOutcome[] = [];
    for (const target of await this.#targets(now)) {
      try {
        const pruned = await this.#pruneIfDue(target, now);
        if (pruned) out.push(pruned);
        const checked = await this.#checkIfDue(target, now);
        if (checked) out.push(checked);
      } catch (err) {
        // A node that is down is tried again next pass; its row says nothing new meanwhile.
        this.d.logger.warn({ node_id: target.nodeId, destination_id: target.destinationId, err: errorMessage(err) }, 'restic maintenance could not reach the node');
      }
    }
    return out;
  }

  async #targets(now: Date): Promise<UpkeepTarget[]> {
    const upkeep = this.d.repos.destinationResticUpkeep;
    // New holders get their row (a path repository per node, an s3: one once).
    for (const h of await upkeep.holders()) {
      await upkeep.ensure(resticUpkeepKey(h.destination_id, h.restic_repository, h.node_id), h.destination_id, h.node_id, now.toISOString());
    }
    const targets = (await this.d.repos.nodeRestic.listEnabled()).map((row) => this.#nodeTarget(row));
    for (const row of await upkeep.list()) {
      const dest = await this.d.repos.destinations.findById(row.destination_id);
      if (dest?.kind === 'restic' && dest.restic_repository) targets.push(this.#destinationTarget(row, dest));
    }
    return targets;
  }

  #nodeTarget(row: NodeResticRow): UpkeepTarget {
    const repo = this.d.repos.nodeRestic;
    return {
      nodeId: row.node_id,
      label: `restic repository ${row.repository}`,
      forgotten: Number(row.forgotten_since_prune),
      lastPruneAt: row.last_prune_at,
      repo: () => this.#restic.openRow(row),
      claimPrune: (seen, at) => repo.claimPrune(row.node_id, seen, at),
      addForgotten: (n, at) => repo.addForgotten(row.node_id, n, at),
      claimCheck: (cutoff, at) => repo.claimCheck(row.node_id, cutoff, at),
      checked: (ok, message, at) => repo.checked(row.node_id, ok, message, at),
      metric: (nodeUuid, ok) => this.d.metrics.resticCheck?.(nodeUuid, ok),
    };
  }

  #destinationTarget(row: DestinationResticUpkeepRow, dest: DestinationRow): UpkeepTarget {
    const repo = this.d.repos.destinationResticUpkeep;
    const key = row.repository_key;
    return {
      nodeId: row.node_id,
      destinationId: dest.id,
      label: `restic destination ${dest.name} (repository ${dest.restic_repository})`,
      forgotten: Number(row.forgotten_since_prune),
      lastPruneAt: row.last_prune_at,
      repo: () => this.#restic.openDestination(dest),
      claimPrune: (seen, at) => repo.claimPrune(key, seen, at),
      addForgotten: (n, at) => repo.addForgotten(key, n, at),
      claimCheck: (cutoff, at) => repo.claimCheck(key, cutoff, at),
      checked: (ok, message, at) => repo.checked(key, ok, message, at),
      metric: (nodeUuid, ok) => this.d.metrics.resticDestinationCheck?.(dest.uuid, nodeUuid, ok),
    };
  }

  async #pruneIfDue(t: UpkeepTarget, now: Date): Promise<MaintenanceOutcome | null> {
    const forgotten = t.forgotten;
    if (forgotten <= 0) return null;
    const dayOld = t.lastPruneAt === null || Date.parse(t.lastPruneAt) <= now.getTime() - this.config.pruneEveryHours * 3600_000;
    if (forgotten < this.config.pruneAfterForgotten && !dayOld) return null;
    if (!(await t.claimPrune(forgotten, now.toISOString()))) return null;
    const node = await this.d.repos.nodes.findById(t.nodeId);
    if (!node) return null;
    let result;
    try {
      result = await this.d.daemon.resticMaintenance(nodeConnection(node), { action: 'prune', restic: t.repo() });
    } catch (err) {
      await t.addForgotten(forgotten, isoNow(this.d.clock));
      throw err;
    }
    // A failed prune (a lock, say) loses nothing: the snapshots stay forgotten, tried again later.
    if (!result.ok) await t.addForgotten(forgotten, isoNow(this.d.clock));
    this.d.logger.info({ node_id: t.nodeId, destination_id: t.destinationId, forgotten, ok: result.ok, message: result.message }, 'restic prune');
    return { nodeId: t.nodeId, ...(t.destinationId === undefined ? {} : { destinationId: t.destinationId }), action: 'prune', ok: result.ok, message: result.message };
  }

  async #checkIfDue(t: UpkeepTarget, now: Date): Promise<MaintenanceOutcome | null> {
    const cutoff = new Date(now.getTime() - this.config.checkEveryHours * 3600_000).toISOString();
    if (!(await t.claimCheck(cutoff, now.toISOString()))) return null;
    const node = await this.d.repos.nodes.findById(t.nodeId);
    if (!node) return null;
    const result = await this.d.daemon.resticMaintenance(nodeConnection(node), { action: 'check', read_data_subset: this.config.checkSubset, restic: t.repo() });
    const at = isoNow(this.d.clock);
    await t.checked(result.ok, result.message, at);
    t.metric(node.uuid, result.ok);
    if (!result.ok) {
      this.d.logger.error({ node_id: t.nodeId, node: node.name, destination_id: t.destinationId, message: result.message }, 'restic repository check failed');
      await this.#notifyFailedCheck(node, t.label, result.message ?? 'the check failed', at);
    }
    return { nodeId: t.nodeId, ...(t.destinationId === undefined ? {} : { destinationId: t.destinationId }), action: 'check', ok: result.ok, message: result.message };
  }

  /** Queued like a failed backup's notification (panel-wide webhooks and e-mail): node as "server", repository as "backup". */
  async #notifyFailedCheck(node: { uuid: string; name: string }, label: string, message: string, at: string): Promise<void> {
    const cfg = this.d.config.notify;
    const body = genericBody({
      event: 'restic.check_failed',
      server: { uuid: node.uuid, name: `node ${node.name}` } as never,
      backup: { uuid: '', name: label, bytes: 0, checksum: null } as never,
      failureReason: message,
      occurredAt: at,
    });
    const payload = JSON.stringify(body);
    const common = { event: 'restic.check_failed', server_id: null, payload };
    const rows: NewDelivery[] = cfg.webhookUrls.map((url) => ({ ...common, channel: 'webhook', scope: 'panel', webhook_id: null, target: url, format: cfg.webhookFormat }));
    if (cfg.smtpUrl) rows.push({ ...common, channel: 'email', scope: 'panel', webhook_id: null, target: cfg.emailTo.join(', '), format: 'generic' });
    if (rows.length > 0) await this.d.repos.notifications.enqueue(rows, at);
  }
}
