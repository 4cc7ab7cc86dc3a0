/**
 * What a notification says: the generic JSON event (stored in the queue as is), the Discord body
 * rendered from it, the e-mail text, and the HMAC-SHA256 signature over `<timestamp>.<body>`.
 */
import { createHmac } from 'node:crypto';
import type { NotifyFormat } from '../config.ts';
import type { JobEvent, JobEventName } from '../services/notifier-port.ts';

export interface GenericBody {
  event: JobEventName;
  server: { uuid: string; name: string };
  backup: { uuid: string; name: string; bytes: number; checksum: string | null; failure_reason: string | null };
  occurred_at: string;
}

export function genericBody(e: JobEvent): GenericBody {
  return {
    event: e.event,
    server: { uuid: e.server.uuid, name: e.server.name },
    backup: {
      uuid: e.backup.uuid,
      name: e.backup.name,
      bytes: Number(e.backup.bytes),
      checksum: e.backup.checksum,
      failure_reason: e.failureReason,
    },
    occurred_at: e.occurredAt,
  };
}

const TITLES: Record<JobEventName, string> = {
  'backup.completed': 'Backup completed',
  'backup.failed': 'Backup failed',
  'backup.damaged': 'Backup damaged',
  'restore.completed': 'Restore completed',
  'restore.failed': 'Restore failed',
  // backwing (restic): "server" names the node, "backup" the repository (docs/restic.md).
  'restic.check_failed': 'restic repository check failed',
};

/** Failed jobs and damaged backups are told in red, with their reason. */
function isBad(event: JobEventName): boolean {
  return event.endsWith('.failed') || event === 'backup.damaged';
}

/** Discord embed colours: green for completed, red for failed. */
const GREEN = 0x2e7d32;
const RED = 0xc62828;

export function titleOf(b: GenericBody): string {
  return `${TITLES[b.event]}: ${b.server.name} / ${b.backup.name}`;
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Discord's webhook body (`content` plus one embed); Slack-style receivers read `content` only. */
export function discordBody(b: GenericBody): { content: string; embeds: Array<Record<string, unknown>> } {
  const failed = isBad(b.event);
  const fields: Array<{ name: string; value: string; inline?: boolean }> = [
    { name: 'Server', value: b.server.name, inline: true },
    { name: 'Backup', value: b.backup.name, inline: true },
  ];
  if (b.event === 'backup.completed') fields.push({ name: 'Size', value: humanBytes(b.backup.bytes), inline: true });
  if (failed && b.backup.failure_reason) fields.push({ name: 'Reason', value: b.backup.failure_reason });
  return {
    content: titleOf(b),
    embeds: [{ title: TITLES[b.event], color: failed ? RED : GREEN, fields, timestamp: b.occurred_at, footer: { text: `server ${b.server.uuid} · backup ${b.backup.uuid}` } }],
  };
}

export function renderWebhookBody(b: GenericBody, format: NotifyFormat): string {
  return JSON.stringify(format === 'discord' ? discordBody(b) : b);
}

export function emailText(b: GenericBody): string {
  const lines = [titleOf(b), '', `Server: ${b.server.name} (${b.server.uuid})`, `Backup: ${b.backup.name} (${b.backup.uuid})`];
  if (b.event === 'backup.completed') lines.push(`Size: ${humanBytes(b.backup.bytes)}`, `Checksum: ${b.backup.checksum ?? '-'}`);
  if (b.backup.failure_reason && isBad(b.event)) lines.push(`Reason: ${b.backup.failure_reason}`);
  lines.push(`When: ${b.occurred_at}`);
  return `${lines.join('\n')}\n`;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`); the timestamp is Unix seconds. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
