import type { Kysely } from 'kysely';
import type { SecretBox } from '../../core/secret-box.ts';
import type { Executor } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { NotificationDeliveriesTable, NotificationDeliveryRow, NotificationFormat, NotificationTables, NotificationWebhookRow } from '../db/notifications.schema.ts';
import { openStoredOrNull } from './stored-secret.ts';

/** One row to queue: what to send where; the queue columns get their starting values. */
export type NewDelivery = Pick<NotificationDeliveriesTable, 'event' | 'channel' | 'scope' | 'webhook_id' | 'server_id' | 'target' | 'format' | 'payload'>;

/** The outcome of one attempt, written by the process that holds the claim. */
export type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; error: string; nextAttemptAt: string }
  | { kind: 'failed'; error: string };

/** Server webhooks (their signing secret sealed at rest with APP_KEY) and the notification delivery queue. */
export class NotificationsRepository {
  private readonly db: Kysely<DB & NotificationTables>;

  constructor(db: Executor, private readonly secrets: SecretBox) {
    this.db = db.withTables<NotificationTables>();
  }

  private open<T extends NotificationWebhookRow | undefined>(row: T): T {
    return (row ? { ...row, secret: openStoredOrNull(this.secrets, row.secret) } : row) as T;
  }

  // ---- server webhooks ----

  async listWebhooks(serverId: number): Promise<NotificationWebhookRow[]> {
    return (await this.db.selectFrom('notification_webhooks').selectAll().where('server_id', '=', serverId).orderBy('id').execute()).map((r) => this.open(r));
  }

  async countWebhooks(serverId: number): Promise<number> {
    const r = await this.db.selectFrom('notification_webhooks').select((eb) => eb.fn.countAll<string | number>().as('n')).where('server_id', '=', serverId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async findWebhookById(id: number): Promise<NotificationWebhookRow | undefined> {
    return this.open(await this.db.selectFrom('notification_webhooks').selectAll().where('id', '=', id).executeTakeFirst());
  }

  async insertWebhook(v: { uuid: string; server_id: number; url: string; secret: string | null; format: NotificationFormat; created_at: string }): Promise<NotificationWebhookRow> {
    await this.db.insertInto('notification_webhooks').values({ ...v, secret: v.secret === null ? null : this.secrets.seal(v.secret) }).execute();
    return this.open((await this.db.selectFrom('notification_webhooks').selectAll().where('uuid', '=', v.uuid).executeTakeFirst())!);
  }

  async deleteWebhook(serverId: number, uuid: string): Promise<boolean> {
    const r = await this.db.deleteFrom('notification_webhooks').where('server_id', '=', serverId).where('uuid', '=', uuid).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Stored secrets as they are (sealed), for re-sealing under a new key. */
  async storedWebhookSecrets(): Promise<Array<{ id: number; secret: string }>> {
    const rows = await this.db.selectFrom('notification_webhooks').select(['id', 'secret']).where('secret', 'is not', null).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, secret: r.secret! }));
  }

  async setStoredWebhookSecret(id: number, sealed: string): Promise<void> {
    await this.db.updateTable('notification_webhooks').set({ secret: sealed }).where('id', '=', id).execute();
  }

  // ---- delivery queue ----

  async enqueue(rows: NewDelivery[], at: string): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insertInto('notification_deliveries')
      .values(rows.map((r) => ({ ...r, status: 'pending' as const, attempts: 0, next_attempt_at: at, created_at: at, updated_at: at })))
      .execute();
  }

  /** Ids due now and not held by a live claim (a claim whose holder died expires at `claimed_until`). */
  async listDue(now: string, limit: number): Promise<number[]> {
    const rows = await this.db.selectFrom('notification_deliveries').select('id')
      .where('status', '=', 'pending').where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  /** One conditional UPDATE: of several processes racing on a row exactly one matches. */
  async claim(id: number, holder: string, now: string, until: string): Promise<NotificationDeliveryRow | undefined> {
    const r = await this.db.updateTable('notification_deliveries').set({ claimed_by: holder, claimed_until: until, updated_at: now })
      .where('id', '=', id).where('status', '=', 'pending').where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    return this.db.selectFrom('notification_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Records an attempt; only the current holder may (a claim that expired mid-send was taken over). */
  async finishAttempt(id: number, holder: string, outcome: AttemptOutcome, at: string): Promise<void> {
    const base = { claimed_by: null, claimed_until: null, updated_at: at };
    const patch = outcome.kind === 'delivered'
      ? { ...base, status: 'delivered' as const, delivered_at: at, last_error: null }
      : outcome.kind === 'retry'
        ? { ...base, last_error: outcome.error, next_attempt_at: outcome.nextAttemptAt }
        : { ...base, status: 'failed' as const, last_error: outcome.error };
    await this.db.updateTable('notification_deliveries')
      .set((eb) => ({ ...patch, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('claimed_by', '=', holder).execute();
  }

  async findDelivery(id: number): Promise<NotificationDeliveryRow | undefined> {
    return this.db.selectFrom('notification_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listDeliveries(filter: { serverId?: number } = {}): Promise<NotificationDeliveryRow[]> {
    let q = this.db.selectFrom('notification_deliveries').selectAll();
    if (filter.serverId !== undefined) q = q.where('server_id', '=', filter.serverId);
    return q.orderBy('id').execute();
  }
}
