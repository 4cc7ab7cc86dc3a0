import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DaemonSystemInfo, DaemonCreateServerRequest, DaemonErrorBody } from '../../wire/daemon-api.ts';
import { VERSION } from '../../core/version.ts';
import { AppError } from '../../core/app-error.ts';
import { daemonErrors } from '../errors.ts';
import type { DaemonHttpDeps } from './deps.ts';

export async function systemRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get(
    '/api/system',
    { schema: { summary: 'Version and health', tags: ['system'], response: { 200: DaemonSystemInfo, 401: DaemonErrorBody, 403: DaemonErrorBody } } },
    async (): Promise<DaemonSystemInfo> => ({
      version: VERSION,
      healthy: deps.registry.loaded,
      uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
      running_backups: deps.backups.runningCount,
      running_restores: deps.restores.runningCount,
      control: deps.control.info(),
    }),
  );

  app.post<{ Body: DaemonCreateServerRequest }>(
    '/api/servers',
    {
      schema: {
        summary: 'Learn a server the panel just created on this node',
        tags: ['servers'],
        body: DaemonCreateServerRequest,
        response: { 202: Type.Null(), 400: DaemonErrorBody, 404: DaemonErrorBody, 502: DaemonErrorBody },
      },
    },
    async (req, reply) => {
      try {
        await deps.registry.learn(req.body.uuid);
      } catch (err) {
        if (err instanceof AppError && err.code === 'E_PANEL' && err.meta?.status === 404) throw daemonErrors.serverNotFound();
        throw err;
      }
      return reply.code(202).send();
    },
  );
}
