import type { FastifyInstance } from 'fastify';
import { resticDetail } from '../restic/restic-cli.ts';
import { DaemonErrorBody, DaemonResticMaintenanceRequest, DaemonResticMaintenanceResult } from '../../wire/daemon-api.ts';
import { failureReasonOf } from '../services/failure-reason.ts';
import { parseResticRepo } from '../restic/restic-request.ts';
import type { DaemonHttpDeps } from './deps.ts';

const errors = { 400: DaemonErrorBody, 401: DaemonErrorBody, 403: DaemonErrorBody };

export async function resticRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.post<{ Body: DaemonResticMaintenanceRequest }>(
    '/api/backwing/restic/maintenance',
    {
      schema: {
        summary: 'Prune or check a restic repository (backwing extension)',
        description: 'backwing extension, not in Wings. Runs `restic prune` or `restic check --read-data-subset=<subset>` and answers when it is done (minutes for a large repository). A failed check is a 200 with ok=false and the reason.',
        tags: ['restic'], body: DaemonResticMaintenanceRequest, response: { 200: DaemonResticMaintenanceResult, ...errors },
      },
    },
    async (req): Promise<DaemonResticMaintenanceResult> => {
      const repo = parseResticRepo(req.body.restic);
      const started = process.hrtime.bigint();
      const took = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        await deps.restic.check();
        if (req.body.action === 'prune') await deps.restic.prune(repo);
        else await deps.restic.checkRepository(repo, req.body.read_data_subset ?? '5%');
        deps.metrics.resticMaintenance.inc({ action: req.body.action, outcome: 'ok' });
        return { ok: true, message: null, duration_seconds: took() };
      } catch (err) {
        deps.metrics.resticMaintenance.inc({ action: req.body.action, outcome: 'failed' });
        deps.logger.warn({ action: req.body.action, detail: resticDetail(err) }, 'restic maintenance failed');
        return { ok: false, message: failureReasonOf(err), duration_seconds: took() };
      }
    },
  );
}
