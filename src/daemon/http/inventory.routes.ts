import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DaemonErrorBody, DaemonInventory } from '../../wire/daemon-api.ts';
import type { DaemonHttpDeps } from './deps.ts';

const errors = { 400: DaemonErrorBody, 401: DaemonErrorBody, 403: DaemonErrorBody, 409: DaemonErrorBody };

/** backwing extensions for the panel's reconciler; an upstream Wings has neither (404). */
export async function inventoryRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get(
    '/api/backwing/inventory',
    {
      schema: {
        summary: 'What this daemon holds (backwing extension)',
        description: 'Local archives with their owners, running jobs, jobs finished recently and reports still queued. The panel reconciles its backups and restores against it.',
        tags: ['backwing'],
        response: { 200: DaemonInventory, ...errors },
      },
    },
    async (): Promise<DaemonInventory> => deps.inventory.inventory(),
  );

  app.delete<{ Params: { backup: string } }>(
    '/api/backwing/archives/:backup',
    {
      schema: {
        summary: 'Remove an archive the panel has no backup for (backwing extension)',
        description: 'Removes <uuid>.tar.gz and its sidecar whatever server owned them; 204 also when nothing was there; 409 while a backup with this uuid runs.',
        tags: ['backwing'],
        params: Type.Object({ backup: Type.String() }),
        response: { 204: Type.Null({ description: 'No content' }), ...errors },
      },
    },
    async (req, reply) => {
      await deps.inventory.removeOrphan(req.params.backup);
      return reply.code(204).send();
    },
  );
}
