import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotificationWebhookBody, NotificationWebhookList, NotificationWebhookObject } from '../../wire/notifications.ts';
import type { PanelContext } from '../context.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });
const WebhookParams = Type.Object({ server: Type.String(), webhook: Type.String() });

/**
 * A backwing extension: the server's notification webhooks. They configure where backup metadata
 * goes, like the retention policy, so they need the same permission (backup.delete, which owners
 * and admins hold); they work whatever state the server is in.
 */
const PERMISSION = 'backup.delete';
const DESCRIPTION = 'backwing extension. Needs backup.delete. Webhooks called when a backup or restore of this server completes or fails (docs/notifications.md). The secret is write-only: responses only say `has_secret`.';

export async function notificationRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const svc = ctx.services.webhooks;
  const base = '/api/client/servers/:server/notifications/webhooks';
  const scope = { permission: PERMISSION, allowAnyState: true };

  app.get(base, {
    schema: { tags: ['notifications'], summary: 'List notification webhooks (backwing extension)', description: DESCRIPTION, params: ServerParams, response: { 200: NotificationWebhookList } },
    preValidation: serverScopeHook(ctx, scope),
  }, async (request) => svc.list(scopeOf(request).server));

  app.post(base, {
    schema: { tags: ['notifications'], summary: 'Add a notification webhook (backwing extension)', description: DESCRIPTION, params: ServerParams, body: NotificationWebhookBody, response: { 200: NotificationWebhookObject } },
    preValidation: serverScopeHook(ctx, scope),
  }, async (request) => svc.add(scopeOf(request).server, request.body as Partial<NotificationWebhookBody>));

  app.delete(`${base}/:webhook`, {
    schema: { tags: ['notifications'], summary: 'Remove a notification webhook (backwing extension)', description: DESCRIPTION, params: WebhookParams, response: { 204: Type.Null() } },
    preValidation: serverScopeHook(ctx, scope),
  }, async (request, reply) => {
    await svc.remove(scopeOf(request).server, (request.params as { webhook: string }).webhook);
    return reply.code(204).send();
  });
}
