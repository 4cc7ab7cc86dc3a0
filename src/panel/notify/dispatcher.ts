import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorMessage } from '../../core/app-error.ts';
import type { Logger } from '../../core/logger.ts';
import type { PanelConfig } from '../config.ts';
import type { NotificationDeliveryRow } from '../db/notifications.schema.ts';
import type { AttemptOutcome } from '../repositories/notifications.repository.ts';
import type { Repos } from '../repositories/index.ts';
import type { Clock } from '../services/deps.ts';
import type { GenericBody } from './bodies.ts';
import { sendEmail, sendWebhook, type SendResult } from './senders.ts';

const BATCH = 50;
const MAX_DELAY_SECONDS = 3600;

/** Delay before attempt `attempts + 1`: base, 2·base, 4·base, … capped at one hour. */
export function retryDelaySeconds(baseSeconds: number, attemptsSoFar: number): number {
  return Math.min(MAX_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attemptsSoFar - 1));
}

export interface DispatcherDeps {
  config: PanelConfig;
  repos: Repos;
  clock: Clock;
  logger: Logger;
}

/**
 * Sends what the queue holds. Each row is claimed first (a conditional UPDATE), so panel processes
 * sharing the database never send one twice; a process that dies mid-send leaves a claim that
 * expires and the row is tried again (at-least-once across crashes, once otherwise).
 */
export class NotificationDispatcher {
  // Fits claimed_by (varchar(64)) whatever the host name.
  readonly holder = `${hostname().slice(0, 40)}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(private readonly d: DispatcherDeps) {}

  /** One pass over every due row; returns how many attempts it made. */
  async drainOnce(): Promise<number> {
    let attempts = 0;
    // A row retried without delay is due again at once; it waits for the next pass, not this one.
    const seen = new Set<number>();
    for (;;) {
      const now = this.d.clock();
      const ids = (await this.d.repos.notifications.listDue(now.toISOString(), BATCH + seen.size)).filter((id) => !seen.has(id)).slice(0, BATCH);
      if (ids.length === 0) return attempts;
      for (const id of ids) seen.add(id);
      // The claim outlives the longest send so nobody takes the row over while it is in flight.
      const until = new Date(now.getTime() + (this.d.config.notify.timeoutSeconds * 2 + 30) * 1000).toISOString();
      const claimed: NotificationDeliveryRow[] = [];
      for (const id of ids) {
        const row = await this.d.repos.notifications.claim(id, this.holder, now.toISOString(), until);
        if (row) claimed.push(row);
      }
      if (claimed.length === 0) return attempts;
      await Promise.all(claimed.map((row) => this.attempt(row)));
      attempts += claimed.length;
    }
  }

  private async attempt(row: NotificationDeliveryRow): Promise<void> {
    let result: SendResult;
    try {
      result = await this.send(row);
    } catch (err) {
      result = { ok: false, retry: true, error: errorMessage(err) };
    }
    const cfg = this.d.config.notify;
    const now = this.d.clock();
    const tries = row.attempts + 1;
    let outcome: AttemptOutcome;
    if (result.ok) outcome = { kind: 'delivered' };
    else if (!result.retry) outcome = { kind: 'failed', error: result.error };
    else if (tries >= cfg.maxAttempts) outcome = { kind: 'failed', error: `gave up after ${tries} attempts: ${result.error}` };
    else outcome = { kind: 'retry', error: result.error, nextAttemptAt: new Date(now.getTime() + retryDelaySeconds(cfg.retryBaseSeconds, tries) * 1000).toISOString() };
    if (outcome.kind !== 'delivered') {
      this.d.logger.warn({ delivery: row.id, event: row.event, channel: row.channel, attempt: tries, outcome: outcome.kind, err: outcome.error }, 'notification not delivered');
    }
    await this.d.repos.notifications.finishAttempt(row.id, this.holder, outcome, now.toISOString());
  }

  private async send(row: NotificationDeliveryRow): Promise<SendResult> {
    const body = JSON.parse(row.payload) as GenericBody;
    const cfg = this.d.config.notify;
    if (row.channel === 'email') return sendEmail(cfg, row.target, body);
    if (row.scope === 'panel') return sendWebhook({ url: row.target, secret: cfg.webhookSecret ?? null, format: row.format }, body, this.d.clock(), cfg.timeoutSeconds);
    // A server webhook is read again at send time: one removed meanwhile gets nothing more.
    const hook = row.webhook_id === null ? undefined : await this.d.repos.notifications.findWebhookById(row.webhook_id);
    if (!hook) return { ok: false, retry: false, error: 'the webhook was removed' };
    return sendWebhook({ url: hook.url, secret: hook.secret, format: hook.format }, body, this.d.clock(), cfg.timeoutSeconds);
  }
}

/** Drains the queue every `drainIntervalMs` inside a running panel; stop() waits for a pass in flight. */
export function startNotificationTimer(dispatcher: NotificationDispatcher, intervalMs: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = dispatcher.drainOnce()
      .then(() => undefined)
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'notification drain failed'))
      .finally(() => { running = null; });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
