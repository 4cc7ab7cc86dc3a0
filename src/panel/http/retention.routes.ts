import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { RetentionPolicyBody, RetentionPolicyObject, RetentionPreview } from '../../wire/schedules.ts';
import type { PanelContext } from '../context.ts';
import { scheduleModuleFor } from '../scheduler/schedule-module.ts';
import { installMultiValidationErrors } from './schedule-errors.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });

/**
 * A backwing extension: the server's retention policy and its dry run. Everything here can lead
 * to deletions, so every route needs backup.delete.
 */
export async function retentionRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const svc = scheduleModuleFor(ctx).retention;
  const base = '/api/client/servers/:server/backups/retention';
  installMultiValidationErrors(app);

  app.get(base, {
    schema: { tags: ['backups'], params: ServerParams, response: { 200: RetentionPolicyObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request) => svc.get(scopeOf(request).server));

  app.put(base, {
    schema: { tags: ['backups'], params: ServerParams, body: RetentionPolicyBody, response: { 200: RetentionPolicyObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const { object, policy } = await svc.put(scope.server, request.body);
    await ctx.services.activity.log({ event: 'server:backup.retention-update', actor: scope.auth.actor, properties: { ...policy }, subjects: [{ type: 'server', id: scope.server.id }] });
    return object;
  });

  app.post(`${base}/preview`, {
    schema: { tags: ['backups'], params: ServerParams, body: RetentionPolicyBody, response: { 200: RetentionPreview } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request) => svc.preview(scopeOf(request).server, request.body));
}
