/**
 * backwing extension: the server's save hook and what its node does around backups and restores.
 * Reading needs `backup.read`; choosing the hook needs `backup.create`, since it decides what a
 * backup sends to the game's console (and only among presets the node's admin allows). Custom
 * commands need every permission (owner or root admin): they are console commands.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { BackupControlObject, BackupControlUpdate, type BackupControlObject as BackupControlObjectT } from '../../wire/server-control.ts';
import type { PanelContext } from '../context.ts';
import type { BackupControlView } from '../services/server-control.service.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });

function toObject(v: BackupControlView): BackupControlObjectT {
  return {
    object: 'backup_control',
    attributes: {
      control: v.node,
      save_hook: v.saveHook,
      effective_save_hook: v.saveHook?.preset ?? v.node?.default_save_hook ?? 'none',
      restore_stops_server: v.node ? v.node.restore_stops_server : null,
    },
  };
}

export async function backupControlRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const svc = ctx.services.serverControl;
  const path = '/api/client/servers/:server/backup-control';
  const description = 'backwing extension (not in Pterodactyl): server control of the node and the save hook of this server.';

  app.get(path, {
    schema: { tags: ['backups'], description, params: ServerParams, response: { 200: BackupControlObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.read' }),
  }, async (request) => {
    const { server, node } = scopeOf(request);
    return toObject(await svc.view(server, node));
  });

  app.put(path, {
    schema: { tags: ['backups'], description, params: ServerParams, body: BackupControlUpdate, response: { 200: BackupControlObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.create' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const body = request.body as BackupControlUpdate;
    return toObject(await svc.setSaveHook(scope.server, scope.node, body.save_hook, scope.auth.actor, scope.access));
  });
}
