import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DaemonBackupRequest, DaemonRestoreRequest, DaemonErrorBody } from '../../wire/daemon-api.ts';
import type { DaemonHttpDeps } from './deps.ts';

const ServerParams = Type.Object({ server: Type.String() });
const BackupParams = Type.Object({ server: Type.String(), backup: Type.String() });
const errors = { 400: DaemonErrorBody, 401: DaemonErrorBody, 403: DaemonErrorBody, 404: DaemonErrorBody, 409: DaemonErrorBody };
const Empty = Type.Null({ description: 'No content' });

export async function backupRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.post<{ Params: { server: string }; Body: DaemonBackupRequest }>(
    '/api/servers/:server/backup',
    { schema: { summary: 'Start a backup', tags: ['backups'], params: ServerParams, body: DaemonBackupRequest, response: { 202: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.start(server.uuid, server.dir, req.body);
      return reply.code(202).send();
    },
  );

  app.post<{ Params: { server: string; backup: string }; Body: DaemonRestoreRequest }>(
    '/api/servers/:server/backup/:backup/restore',
    { schema: { summary: 'Restore a backup', tags: ['backups'], params: BackupParams, body: DaemonRestoreRequest, response: { 202: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.restores.start(server.uuid, server.dir, req.params.backup, req.body);
      return reply.code(202).send();
    },
  );

  app.delete<{ Params: { server: string } }>(
    '/api/servers/:server/backup/delete-all',
    { schema: { summary: "Delete every local backup of a server", tags: ['backups'], params: ServerParams, response: { 204: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.deleteAll(server.uuid);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { server: string; backup: string } }>(
    '/api/servers/:server/backup/:backup',
    { schema: { summary: 'Delete a local backup (aborts it if running)', tags: ['backups'], params: BackupParams, response: { 204: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.delete(server.uuid, req.params.backup);
      return reply.code(204).send();
    },
  );
}
