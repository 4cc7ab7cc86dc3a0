/**
 * One attempt at one destination, classified: delivered, worth retrying, or final. Webhooks: 2xx
 * delivered; 429, 5xx and network errors retried; any other status final. E-mail: SMTP 5xx replies
 * final, everything else (4xx, connection) retried.
 */
import type { Transporter } from 'nodemailer';
import { errorMessage } from '../../core/app-error.ts';
import type { NotifyConfig } from '../config.ts';
import { emailText, renderWebhookBody, signature, titleOf, type GenericBody } from './bodies.ts';
import type { NotificationFormat } from '../db/notifications.schema.ts';

export type SendResult = { ok: true } | { ok: false; retry: boolean; error: string };

export interface WebhookTarget {
  url: string;
  secret: string | null;
  format: NotificationFormat;
}

export async function sendWebhook(target: WebhookTarget, body: GenericBody, now: Date, timeoutSeconds: number): Promise<SendResult> {
  const text = renderWebhookBody(body, target.format);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'backwing-notify', 'x-backwing-event': body.event, 'x-backwing-timestamp': timestamp };
  if (target.secret) headers['x-backwing-signature'] = signature(target.secret, timestamp, text);
  let res: Response;
  try {
    // No redirects: a POST turned into a GET elsewhere would count as delivered without arriving.
    res = await fetch(target.url, { method: 'POST', headers, body: text, redirect: 'manual', signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    await res.arrayBuffer().catch(() => undefined);
  } catch (err) {
    return { ok: false, retry: true, error: `request failed: ${errorMessage(err)}` };
  }
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const retry = res.status === 429 || res.status >= 500;
  return { ok: false, retry, error: `receiver answered HTTP ${res.status}` };
}

/** One transport per SMTP URL, kept for the process (nodemailer pools nothing unless asked). */
const transports = new Map<string, Transporter>();

async function transportFor(cfg: NotifyConfig): Promise<Transporter> {
  let t = transports.get(cfg.smtpUrl!);
  if (!t) {
    // Loaded only by a panel that sends e-mail.
    const { createTransport } = await import('nodemailer');
    const ms = cfg.timeoutSeconds * 1000;
    t = createTransport({ url: cfg.smtpUrl!, connectionTimeout: ms, greetingTimeout: ms, socketTimeout: ms });
    transports.set(cfg.smtpUrl!, t);
  }
  return t;
}

export async function sendEmail(cfg: NotifyConfig, to: string, body: GenericBody): Promise<SendResult> {
  if (!cfg.smtpUrl) return { ok: false, retry: false, error: 'SMTP_URL is no longer set' };
  try {
    await (await transportFor(cfg)).sendMail({ from: cfg.emailFrom, to, subject: `[backwing] ${titleOf(body)}`, text: emailText(body) });
    return { ok: true };
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode;
    return { ok: false, retry: !(typeof code === 'number' && code >= 500), error: `SMTP: ${errorMessage(err)}` };
  }
}
