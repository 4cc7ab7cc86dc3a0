import type { FastifyError, FastifyInstance } from 'fastify';
import { isAppError } from '../../core/app-error.ts';

/**
 * Schedule and retention bodies are validated by the services, which report every failing field
 * at once (meta.errors). This renders them as one `errors[]` entry each, upstream's shape; any
 * other error is rethrown to the app's error handler.
 */
export function installMultiValidationErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, _request, reply) => {
    if (isAppError(err) && err.code === 'ValidationException' && Array.isArray(err.meta?.errors)) {
      const items = (err.meta.errors as Array<{ detail: string; meta: Record<string, unknown> }>).map((e) => ({
        code: 'ValidationException', status: '422', detail: e.detail, meta: e.meta,
      }));
      return reply.code(422).type('application/json').send({ errors: items });
    }
    throw err;
  });
}
