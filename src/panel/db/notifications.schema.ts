/**
 * Tables added by migration 0005 (notifications). Kept apart from schema.ts like the schedule
 * tables, so the notification repository extends the core DB type with `withTables<…>()`.
 */
import type { Generated, Selectable } from 'kysely';

export type NotificationFormat = 'generic' | 'discord';
export type DeliveryChannel = 'webhook' | 'email';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationWebhooksTable {
  id: Generated<number>;
  uuid: string;
  server_id: number;
  url: string;
  secret: string | null;
  format: NotificationFormat;
  created_at: string;
}

export interface NotificationDeliveriesTable {
  id: Generated<number>;
  event: string;
  channel: DeliveryChannel;
  scope: 'panel' | 'server';
  webhook_id: number | null;
  server_id: number | null;
  target: string;
  format: NotificationFormat;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_until: string | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
}

// A type alias, not an interface: withTables<T>() needs an index-compatible record type.
export type NotificationTables = {
  notification_webhooks: NotificationWebhooksTable;
  notification_deliveries: NotificationDeliveriesTable;
};

export type NotificationWebhookRow = Selectable<NotificationWebhooksTable>;
export type NotificationDeliveryRow = Selectable<NotificationDeliveriesTable>;
