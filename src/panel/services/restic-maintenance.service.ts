/**
 * restic upkeep off the hot path (docs/restic.md): deleting a restic backup only `forget`s its
 * snapshot; the data goes when the repository is pruned, here, once enough was forgotten or once
 * a day. And a `restic check --read-data-subset` per repository, its result kept on the node's
 * row (application API, `backwing admin node restic`), counted in the metrics, and a failed check
 * queued as a notification like a failed backup.
 */
import { errorMessage } from '../../core/app-error.ts';
import { RESTIC_DEFAULTS } from '../config.ts';
import type { NodeResticRow } from '../db/schema.ts';
import { genericBody } from '../notify/bodies.ts';
import type { NewDelivery } from '../repositories/notifications.repository.ts';
import { isoNow, nodeConnection, type ServiceDeps } from './deps.ts';
import { ResticService } from './restic.service.ts';

export interface MaintenanceOutcome {
  nodeId: number;
  action: 'prune' | 'check';
  ok: boolean;
  message: string | null;
}

export class ResticMaintenanceService {
  readonly #restic: ResticService;
  constructor(private readonly d: ServiceDeps) {
    this.#restic = new ResticService(d);
  }

  get config() {
    return this.d.config.restic ?? RESTIC_DEFAULTS;
  }

  /** One pass over every enabled repository: prunes and checks that are due. */
  async runOnce(now: Date = this.d.clock()): Promise<MaintenanceOutcome[]> {
    const out: MaintenanceOutcome[] = [];
    for (const row of await this.d.repos.nodeRestic.listEnabled()) {
      try {
        const pruned = await this.#pruneIfDue(row, now);
        if (pruned) out.push(pruned);
        const checked = await this.#checkIfDue(row, now);
        if (checked) out.push(checked);
      } catch (err) {
        // A node that is down is tried again next pass; its row says nothing new meanwhile.
        this.d.logger.warn({ node_id: row.node_id, err: errorMessage(err) }, 'restic maintenance could not reach the node');
      }
    }
    return out;
  }

  async #pruneIfDue(row: NodeResticRow, now: Date): Promise<MaintenanceOutcome | null> {
    const forgotten = Number(row.forgotten_since_prune);
    if (forgotten <= 0) return null;
    const dayOld = row.last_prune_at === null || Date.parse(row.last_prune_at) <= now.getTime() - this.config.pruneEveryHours * 3600_000;
    if (forgotten < this.config.pruneAfterForgotten && !dayOld) return null;
    if (!(await this.d.repos.nodeRestic.claimPrune(row.node_id, forgotten, now.toISOString()))) return null;
    const node = await this.d.repos.nodes.findById(row.node_id);
    if (!node) return null;
    let result;
    try {
      result = await this.d.daemon.resticMaintenance(nodeConnection(node), { action: 'prune', restic: this.#restic.openRow(row) });
    } catch (err) {
      await this.d.repos.nodeRestic.addForgotten(row.node_id, forgotten, isoNow(this.d.clock));
      throw err;
    }
    // A failed prune (a lock, say) loses nothing: the snapshots stay forgotten, tried again later.
    if (!result.ok) await this.d.repos.nodeRestic.addForgotten(row.node_id, forgotten, isoNow(this.d.clock));
    this.d.logger.info({ node_id: row.node_id, forgotten, ok: result.ok, message: result.message }, 'restic prune');
    return { nodeId: row.node_id, action: 'prune', ok: result.ok, message: result.message };
  }

  async #checkIfDue(row: NodeResticRow, now: Date): Promise<MaintenanceOutcome | null> {
    const cutoff = new Date(now.getTime() - this.config.checkEveryHours * 3600_000).toISOString();
    if (!(await this.d.repos.nodeRestic.claimCheck(row.node_id, cutoff, now.toISOString()))) return null;
    const node = await this.d.repos.nodes.findById(row.node_id);
    if (!node) return null;
    const result = await this.d.daemon.resticMaintenance(nodeConnection(node), { action: 'check', read_data_subset: this.config.checkSubset, restic: this.#restic.openRow(row) });
    const at = isoNow(this.d.clock);
    await this.d.repos.nodeRestic.checked(row.node_id, result.ok, result.message, at);
    this.d.metrics.resticCheck?.(node.uuid, result.ok);
    if (!result.ok) {
      this.d.logger.error({ node_id: row.node_id, node: node.name, message: result.message }, 'restic repository check failed');
      await this.#notifyFailedCheck(node, row, result.message ?? 'the check failed', at);
    }
    return { nodeId: row.node_id, action: 'check', ok: result.ok, message: result.message };
  }

  /** Queued like a failed backup's notification (panel-wide webhooks and e-mail): node as "server", repository as "backup". */
  async #notifyFailedCheck(node: { uuid: string; name: string }, row: NodeResticRow, message: string, at: string): Promise<void> {
    const cfg = this.d.config.notify;
    const body = genericBody({
      event: 'restic.check_failed',
      server: { uuid: node.uuid, name: `node ${node.name}` } as never,
      backup: { uuid: '', name: `restic repository ${row.repository}`, bytes: 0, checksum: null } as never,
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
