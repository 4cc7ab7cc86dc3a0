/**
 * Scheduled re-verification (issue 17): every successful backup is read back again once its last
 * verification is older than BACKUP_VERIFY_INTERVAL_DAYS (never-verified ones first). Throttled so
 * it never competes with backups: on each node one verification at a time, only while no backup of
 * that node is running, each read at most BACKUP_VERIFY_READ_LIMIT bytes per second (and the node
 * pauses the read while a backup starts meanwhile). Nodes are independent and go side by side.
 * Several panels on one database: a node's pass runs only in the process holding the node's
 * verification lease, so no backup is read back twice in a round and the node still sees one at a time.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/app-error.ts';
import type { NodeRow } from '../db/schema.ts';
import { isoNow, type ServiceDeps } from './deps.ts';
import type { VerificationService } from './verification.service.ts';

const DAY_MS = 24 * 3600 * 1000;
/** Backups looked at per node per pass; the next pass (BACKUP_VERIFY_CHECK_INTERVAL) takes the rest. */
const PER_PASS = 20;

export class VerificationSchedule {
  #stopped = false;
  #running: Promise<number> | null = null;
  /** This process, as the verification leases name it. */
  readonly holder = randomUUID();

  constructor(private readonly d: ServiceDeps, private readonly verification: VerificationService) {}

  /** One pass over every node; resolves with how many backups were verified. A pass never overlaps another. */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => { this.#running = null; });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const days = this.d.config.verify.intervalDays;
    if (days <= 0) return 0;
    const nodes = await this.d.repos.nodes.list();
    const counts = await Promise.all(nodes.filter((n) => n.maintenance !== 1).map((n) => this.#node(n, days).catch((err: unknown) => {
      this.d.logger.warn({ node: n.uuid, err: errorMessage(err) }, 'scheduled verification stopped for this pass');
      return 0;
    })));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Takes or extends the node's lease for one more verification (it may run up to the verify timeout). */
  #claim(node: NodeRow): Promise<boolean> {
    const now = this.d.clock();
    const until = new Date(now.getTime() + (this.d.config.verify.timeoutSeconds + 60) * 1000).toISOString();
    return this.d.repos.verificationLeases.claim(node.id, this.holder, now.toISOString(), until);
  }

  /** The node's pass, in the process that holds its lease (0 when another one does). */
  async #node(node: NodeRow, days: number): Promise<number> {
    if (!(await this.#claim(node))) return 0;
    try {
      return await this.#nodeHeld(node, days);
    } finally {
      await this.d.repos.verificationLeases.release(node.id, this.holder).catch(() => undefined);
    }
  }

  /** One at a time on this node, until nothing is due, a backup starts, or the pass limit. */
  async #nodeHeld(node: NodeRow, days: number): Promise<number> {
    const cutoff = new Date(this.d.clock().getTime() - days * DAY_MS).toISOString();
    // Read under the lease: what another process verified before it let the node go is not due any more.
    const due = await this.d.repos.backups.findDueForVerification(node.id, cutoff, PER_PASS);
    let done = 0;
    for (const backup of due) {
      if (this.#stopped) break;
      if (!(await this.#claim(node))) break;
      // Checked before each one: a backup that started meanwhile has the node to itself.
      if (await this.d.repos.backups.nodeHasRunningBackup(node.id)) break;
      const server = await this.d.repos.servers.findById(backup.server_id);
      if (!server) continue;
      try {
        await this.verification.verify({ server, node }, backup, null, { readLimit: this.d.config.verify.readLimit, background: true });
        done++;
      } catch (err) {
        // Not a verdict (node unreachable, S3 down): the backup stays due and is tried next pass.
        this.d.logger.warn({ backup_uuid: backup.uuid, node: node.uuid, err: errorMessage(err), at: isoNow(this.d.clock) }, 'scheduled verification could not run');
        break;
      }
    }
    return done;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running?.catch(() => undefined);
  }
}

/** The panel's timer for the schedule (BACKUP_VERIFY_CHECK_INTERVAL); off when BACKUP_VERIFY_INTERVAL_DAYS is 0. */
export function startVerificationTimer(d: ServiceDeps, verification: VerificationService): { stop(): Promise<void> } {
  const schedule = new VerificationSchedule(d, verification);
  if (d.config.verify.intervalDays <= 0) return { stop: async () => {} };
  const timer = setInterval(() => {
    void schedule.runOnce().catch((err: unknown) => d.logger.error({ err: errorMessage(err) }, 'scheduled verification failed'));
  }, d.config.verify.checkIntervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await schedule.stop();
    },
  };
}
