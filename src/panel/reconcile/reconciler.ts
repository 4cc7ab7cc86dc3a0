/**
 * Runs the reconciliation passes inside a panel process: once at start-up, every
 * `reconcileIntervalSeconds`, and at once for a node whose daemon reports it restarted. Each node
 * is worked on only under its lease, so panels sharing a database divide the work.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/app-error.ts';
import type { PanelContext } from '../context.ts';
import type { NodeRow } from '../db/schema.ts';
import { ReconcileService, type NodeReconcileResult } from '../services/reconcile.service.ts';

export class Reconciler {
  readonly holder = randomUUID();
  readonly service: ReconcileService;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<NodeReconcileResult[]> | null = null;
  private readonly nudges = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly ctx: PanelContext) {
    this.service = new ReconcileService(ctx.deps, ctx.services.backups);
  }

  private get intervalMs(): number {
    return Math.max(1, this.ctx.config.reconcileIntervalSeconds) * 1000;
  }

  /** One pass over every node this process can lease. Concurrent calls share the pass in flight. */
  runOnce(): Promise<NodeReconcileResult[]> {
    this.running ??= this.#pass().finally(() => { this.running = null; });
    return this.running;
  }

  async #pass(): Promise<NodeReconcileResult[]> {
    const out: NodeReconcileResult[] = [];
    for (const node of await this.ctx.repos.nodes.list()) {
      const r = await this.reconcileNode(node);
      if (r) out.push(r);
    }
    return out;
  }

  /** Reconciles one node if its lease can be had; null when another process holds it. */
  async reconcileNode(node: NodeRow): Promise<NodeReconcileResult | null> {
    const now = this.ctx.deps.clock();
    const until = new Date(now.getTime() + this.intervalMs).toISOString();
    try {
      if (!(await this.ctx.repos.reconcileLeases.claim(node.id, this.holder, now.toISOString(), until))) return null;
      const result = await this.service.reconcileNode(node, now);
      await this.ctx.repos.reconcileLeases.finish(node.id, this.holder, this.ctx.deps.clock().toISOString());
      return result;
    } catch (err) {
      this.ctx.logger.error({ node: node.uuid, err: errorMessage(err) }, 'reconciliation pass failed');
      return null;
    }
  }

  /** A node came back (its daemon restarted): look at it now rather than at the next tick. */
  nudge(node: NodeRow): void {
    if (this.stopped || this.ctx.config.reconcileIntervalSeconds <= 0) return;
    const p = this.reconcileNode(node).catch(() => null);
    this.nudges.add(p);
    void p.finally(() => this.nudges.delete(p));
  }

  start(): void {
    if (this.timer || this.ctx.config.reconcileIntervalSeconds <= 0) return;
    const tick = () => {
      if (!this.running) void this.runOnce();
    };
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    await Promise.all([...this.nudges]);
  }
}

const reconcilers = new WeakMap<PanelContext, Reconciler>();

/** The reconciler of this context (created on first use), wired to the daemons' reset reports. */
export function reconcilerFor(ctx: PanelContext): Reconciler {
  let r = reconcilers.get(ctx);
  if (!r) {
    const created = new Reconciler(ctx);
    r = created;
    reconcilers.set(ctx, created);
    ctx.services.remote.onServersReset((node) => created.nudge(node));
  }
  return r;
}

/** Starts the periodic passes of a running panel; returns the stop function for its shutdown. */
export function startReconciler(ctx: PanelContext): { reconciler: Reconciler; stop(): Promise<void> } {
  const reconciler = reconcilerFor(ctx);
  reconciler.start();
  return { reconciler, stop: () => reconciler.stop() };
}
