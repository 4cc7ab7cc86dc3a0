/**
 * Persistent outbox for reports to the panel. A report is written to disk before the first send
 * and deleted only after a 2xx, so the panel hears about every finished job even across crashes
 * and panel outages. 4xx answers are permanent (the panel refused it; retrying cannot help);
 * 5xx and network errors are retried forever with capped exponential backoff plus jitter.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { PanelClient } from '../panel-client/panel-client.ts';
import type { DaemonMetrics } from '../metrics.ts';

interface OutboxEntry {
  path: string;
  body: unknown;
  created_at: string;
  /** Journal id of the job this reports, so crash recovery can tell it was already queued. */
  job?: string;
}

export interface EnqueueOptions {
  job?: string;
  /**
   * Runs after the report is on disk and before the first send. Jobs remove their journal entry
   * here: a crash before it leaves both (recovery sees the queued report and adds none), and the
   * report cannot reach the panel while the journal still claims the job never reported.
   */
  beforeSend?: () => Promise<void>;
}

interface Pending {
  file: string;
  entry: OutboxEntry;
  attempts: number;
  timer: NodeJS.Timeout | null;
  sending: boolean;
}

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const FINAL_FLUSH_MS = 5_000;

export class ReportOutbox {
  readonly #dir: string;
  readonly #pending = new Map<string, Pending>();
  #closed = false;
  #paused = true;

  constructor(stateDir: string, private readonly panel: PanelClient, private readonly logger: Logger, private readonly metrics: DaemonMetrics) {
    this.#dir = join(stateDir, 'outbox');
  }

  get depth(): number {
    return this.#pending.size;
  }

  /**
   * Loads reports left by a previous run without sending them: crash recovery must see what is
   * queued before any of it can be delivered and dropped. `resume()` starts the sending.
   */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const names = (await readdir(this.#dir)).sort();
    for (const name of names) {
      const file = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        await rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const entry = JSON.parse(await readFile(file, 'utf8')) as OutboxEntry | null;
        if (typeof entry !== 'object' || entry === null || typeof entry.path !== 'string' || !entry.path.startsWith('/')) throw new Error('not an outbox entry');
        this.#track(file, entry);
      } catch (err) {
        this.logger.warn({ file: name, err: errorMessage(err) }, 'dropping unreadable outbox entry');
        await rm(file, { force: true });
      }
    }
  }

  /** Starts delivering everything queued so far and everything queued from now on. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#pending.size > 0) this.logger.info({ count: this.#pending.size }, 'replaying outbox');
    for (const p of this.#pending.values()) if (!this.#closed && !p.timer) this.#schedule(p, 0);
  }

  /** Persists a report, then sends it in the background. Resolves once it is on disk. */
  async enqueue(path: string, body: unknown, opts: EnqueueOptions = {}): Promise<void> {
    const entry: OutboxEntry = { path, body, created_at: new Date().toISOString(), ...(opts.job ? { job: opts.job } : {}) };
    const name = `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}.json`;
    const file = join(this.#dir, name);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(entry));
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    try {
      await opts.beforeSend?.();
    } finally {
      this.#track(file, entry);
    }
  }

  /** Paths and bodies of the reports still waiting (for the reconciliation inventory). */
  pending(): Array<{ path: string; body: unknown }> {
    return [...this.#pending.values()].map((p) => ({ path: p.entry.path, body: p.entry.body }));
  }

  /** Whether a report for this job is still waiting on disk. */
  hasReportFor(job: string): boolean {
    for (const p of this.#pending.values()) if (p.entry.job === job) return true;
    return false;
  }

  #track(file: string, entry: OutboxEntry): void {
    const p: Pending = { file, entry, attempts: 0, timer: null, sending: false };
    this.#pending.set(file, p);
    this.metrics.reportQueueDepth.set(this.#pending.size);
    if (!this.#closed && !this.#paused) this.#schedule(p, 0);
  }

  #schedule(p: Pending, delay: number): void {
    p.timer = setTimeout(() => {
      p.timer = null;
      void this.#attempt(p);
    }, delay);
  }

  async #attempt(p: Pending): Promise<boolean> {
    if (p.sending) return false;
    p.sending = true;
    p.attempts++;
    let status: number | null = null;
    let failure = '';
    try {
      status = await this.panel.post(p.entry.path, p.entry.body);
    } catch (err) {
      failure = errorMessage(err);
    } finally {
      p.sending = false;
    }
    if (status !== null && status >= 200 && status < 300) {
      await this.#drop(p);
      this.logger.info({ report: p.entry.path, attempts: p.attempts }, 'report delivered');
      return true;
    }
    if (status !== null && status >= 400 && status < 500) {
      await this.#drop(p);
      this.logger.warn({ report: p.entry.path, status }, 'panel refused report; dropped');
      return true;
    }
    this.metrics.reportRetries.inc();
    if (!this.#closed) {
      const base = Math.min(INITIAL_DELAY_MS * 2 ** (p.attempts - 1), MAX_DELAY_MS);
      const delay = base * (0.5 + Math.random() * 0.5);
      this.logger.warn({ report: p.entry.path, status, err: failure || undefined, retry_in_ms: Math.round(delay) }, 'report not delivered; will retry');
      this.#schedule(p, delay);
    }
    return false;
  }

  async #drop(p: Pending): Promise<void> {
    this.#pending.delete(p.file);
    this.metrics.reportQueueDepth.set(this.#pending.size);
    await rm(p.file, { force: true });
  }

  /** One last attempt for everything pending; whatever fails stays on disk for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#pending.values()];
    for (const p of all) if (p.timer) clearTimeout(p.timer);
    // Bounded: a hanging panel must not hold up shutdown; what is not delivered stays on disk.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all.map((p) => this.#attempt(p).catch(() => false))),
      new Promise((r) => (timer = setTimeout(r, FINAL_FLUSH_MS))),
    ]);
    clearTimeout(timer);
    for (const p of this.#pending.values()) if (p.timer) clearTimeout(p.timer);
  }
}
