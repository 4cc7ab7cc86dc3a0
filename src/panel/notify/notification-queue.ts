import type { PanelConfig } from '../config.ts';
import type { NewDelivery } from '../repositories/notifications.repository.ts';
import type { Repos } from '../repositories/index.ts';
import type { JobEvent, JobNotifier } from '../services/notifier-port.ts';
import { genericBody } from './bodies.ts';

/**
 * Turns a finished job into queue rows, one per destination: each panel webhook, each server
 * webhook, and one e-mail when SMTP is set. Only writes rows; the dispatcher sends them later, so
 * a slow or dead receiver never holds up the daemon's report.
 */
export class NotificationQueue implements JobNotifier {
  constructor(private readonly d: { config: PanelConfig; repos: Repos }) {}

  async jobFinished(e: JobEvent): Promise<void> {
    const cfg = this.d.config.notify;
    const payload = JSON.stringify(genericBody(e));
    const common = { event: e.event, server_id: e.server.id, payload };
    const rows: NewDelivery[] = cfg.webhookUrls.map((url) => ({ ...common, channel: 'webhook', scope: 'panel', webhook_id: null, target: url, format: cfg.webhookFormat }));
    for (const w of await this.d.repos.notifications.listWebhooks(e.server.id)) {
      rows.push({ ...common, channel: 'webhook', scope: 'server', webhook_id: w.id, target: w.url, format: w.format });
    }
    if (cfg.smtpUrl) rows.push({ ...common, channel: 'email', scope: 'panel', webhook_id: null, target: cfg.emailTo.join(', '), format: 'generic' });
    await this.d.repos.notifications.enqueue(rows, e.occurredAt);
  }
}
