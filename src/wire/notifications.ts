/**
 * Per-server notification webhooks in the client API (a backwing extension). The secret is
 * write-only: the API says whether one is set, never what it is.
 */
import { Type, type Static } from 'typebox';

export const NOTIFICATION_FORMATS = ['generic', 'discord'] as const;

export const NotificationWebhookObject = Type.Object({
  object: Type.Literal('notification_webhook'),
  attributes: Type.Object({
    uuid: Type.String(),
    url: Type.String(),
    format: Type.Union([Type.Literal('generic'), Type.Literal('discord')]),
    has_secret: Type.Boolean(),
    created_at: Type.String(),
  }),
});
export type NotificationWebhookObject = Static<typeof NotificationWebhookObject>;

export const NotificationWebhookList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(NotificationWebhookObject),
});
export type NotificationWebhookList = Static<typeof NotificationWebhookList>;

/** Checked by the service (clear 422 per field), so the schema only documents it. */
export const NotificationWebhookBody = Type.Object({
  url: Type.String({ description: 'http:// or https:// URL the panel POSTs to, at most 2048 characters.' }),
  secret: Type.Optional(Type.String({ description: 'Signs the body (X-Backwing-Signature); write-only, 8 to 255 characters.' })),
  format: Type.Optional(Type.Union([Type.Literal('generic'), Type.Literal('discord')], { description: 'Default generic.' })),
});
export type NotificationWebhookBody = Static<typeof NotificationWebhookBody>;
