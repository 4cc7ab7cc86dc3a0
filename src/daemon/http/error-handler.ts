import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../core/app-error.ts';
import { DaemonMessages } from '../errors.ts';

/** The one place errors become HTTP: `{"error", "request_id"}` always, never a stack or a 500 for bad input. */
export function daemonErrorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  const body = (status: number, message: string) => reply.status(status).type('application/json').send({ error: message, request_id: req.id });
  if (isAppError(err)) {
    if (err.headers) reply.headers(err.headers);
    if (err.status >= 500) req.log.error({ err, code: err.code }, 'request failed');
    // restic's failures are sentences written for users (RESTIC_REASONS; restic's own text goes to the log only).
    body(err.status, err.status >= 500 && err.code !== 'E_CONFIG' && err.code !== 'E_RESTIC' ? DaemonMessages.generic : err.message);
    return;
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    body(400, `The request is invalid: ${fe.message}`);
    return;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const parse = (fe.code?.startsWith('FST_ERR_CTP') && fe.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') || err instanceof SyntaxError;
    body(fe.statusCode, parse ? DaemonMessages.unparsable : fe.message);
    return;
  }
  req.log.error({ err }, 'unexpected error');
  body(500, DaemonMessages.generic);
}
