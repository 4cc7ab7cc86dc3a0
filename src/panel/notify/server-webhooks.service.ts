import { randomUUID } from 'node:crypto';
import type { NotificationWebhookBody, NotificationWebhookList, NotificationWebhookObject } from '../../wire/notifications.ts';
import type { NotificationWebhookRow } from '../db/notifications.schema.ts';
import type { ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import type { Repos } from '../repositories/index.ts';
import { atom } from '../services/backup-view.ts';
import type { Clock } from '../services/deps.ts';

/** Enough for a team's chat, a monitor and a spare; each one is a request per job event. */
export const MAX_WEBHOOKS_PER_SERVER = 5;

function toObject(w: NotificationWebhookRow): NotificationWebhookObject {
  return { object: 'notification_webhook', attributes: { uuid: w.uuid, url: w.url, format: w.format, has_secret: w.secret !== null, created_at: atom(w.created_at) } };
}

function validUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw PanelErrors.validation('url', 'required', 'The url field is required.');
  const url = raw.trim();
  if (url.length > 2048) throw PanelErrors.validation('url', 'max', 'The url field must not be greater than 2048 characters.');
  let u: URL;
  try { u = new URL(url); } catch { throw PanelErrors.validation('url', 'url', 'The url field must be a valid http:// or https:// URL.'); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw PanelErrors.validation('url', 'url', 'The url field must be a valid http:// or https:// URL.');
  return url;
}

/** The owner's webhooks for one server (client API, backwing extension). */
export class ServerWebhooksService {
  constructor(private readonly d: { repos: Repos; clock: Clock }) {}

  async list(server: ServerRow): Promise<NotificationWebhookList> {
    return { object: 'list', data: (await this.d.repos.notifications.listWebhooks(server.id)).map(toObject) };
  }

  async add(server: ServerRow, body: Partial<NotificationWebhookBody> | null | undefined): Promise<NotificationWebhookObject> {
    const b = body ?? {};
    const url = validUrl(b.url);
    let secret: string | null = null;
    if (b.secret !== undefined && b.secret !== null) {
      if (typeof b.secret !== 'string' || b.secret.length < 8 || b.secret.length > 255) {
        throw PanelErrors.validation('secret', 'between', 'The secret field must be between 8 and 255 characters.');
      }
      secret = b.secret;
    }
    const format = b.format ?? 'generic';
    if (format !== 'generic' && format !== 'discord') throw PanelErrors.validation('format', 'in', 'The format field must be generic or discord.');
    if ((await this.d.repos.notifications.countWebhooks(server.id)) >= MAX_WEBHOOKS_PER_SERVER) {
      throw PanelErrors.validation('url', 'max', `A server can have at most ${MAX_WEBHOOKS_PER_SERVER} notification webhooks; remove one first.`);
    }
    const row = await this.d.repos.notifications.insertWebhook({ uuid: randomUUID(), server_id: server.id, url, secret, format, created_at: this.d.clock().toISOString() });
    return toObject(row);
  }

  async remove(server: ServerRow, uuid: string): Promise<void> {
    if (!(await this.d.repos.notifications.deleteWebhook(server.id, uuid))) throw PanelErrors.resourceNotFound();
  }
}
