import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, type AppError } from '../../core/app-error.ts';
import { PanelErrors } from '../errors.ts';

interface ErrorItem {
  code: string;
  status: string;
  detail: string;
  meta?: Record<string, unknown>;
}

interface AjvLikeError {
  instancePath?: string;
  keyword: string;
  params?: Record<string, unknown>;
  message?: string;
}

const RULES: Record<string, string> = { boolean: 'boolean', string: 'string', integer: 'integer', number: 'numeric', array: 'array', object: 'array' };

function label(field: string): string {
  return field.replace(/_/g, ' ');
}

/** One Laravel-style entry per failing field: `{code: ValidationException, detail, meta: {source_field, rule}}`. */
export function validationItems(errors: AjvLikeError[]): ErrorItem[] {
  const seen = new Set<string>();
  const items: ErrorItem[] = [];
  for (const e of errors) {
    const path = (e.instancePath ?? '').replace(/^\//, '').split('/').filter(Boolean).join('.');
    const field = e.keyword === 'required' ? [path, String(e.params?.missingProperty ?? '')].filter(Boolean).join('.') : path || 'body';
    if (seen.has(field)) continue;
    seen.add(field);
    let rule = 'invalid';
    let detail = `The ${label(field)} field is invalid.`;
    switch (e.keyword) {
      case 'required':
        rule = 'required';
        detail = `The ${label(field)} field is required.`;
        break;
      case 'type': {
        const t = String(e.params?.type ?? '').split(',')[0] ?? '';
        rule = RULES[t] ?? t;
        detail = rule === 'boolean' ? `The ${label(field)} field must be true or false.`
          : rule === 'string' ? `The ${label(field)} field must be a string.`
          : rule === 'array' ? `The ${label(field)} field must be an array.`
          : `The ${label(field)} field must be a number.`;
        break;
      }
      case 'maxLength':
        rule = 'max';
        detail = `The ${label(field)} field must not be greater than ${String(e.params?.limit)} characters.`;
        break;
      case 'minLength':
        rule = 'min';
        detail = `The ${label(field)} field must be at least ${String(e.params?.limit)} characters.`;
        break;
      case 'maximum':
        rule = 'max';
        detail = `The ${label(field)} field must not be greater than ${String(e.params?.limit)}.`;
        break;
      case 'minimum':
        rule = 'min';
        detail = `The ${label(field)} field must be at least ${String(e.params?.limit)}.`;
        break;
      case 'enum':
      case 'const':
        rule = 'in';
        detail = `The selected ${label(field)} is invalid.`;
        break;
      case 'format':
      case 'pattern':
        rule = 'regex';
        detail = `The ${label(field)} field format is invalid.`;
        break;
      default:
        break;
    }
    items.push({ code: 'ValidationException', status: '422', detail, meta: { source_field: field, rule } });
  }
  return items;
}

export function appErrorBody(err: AppError): { errors: ErrorItem[] } {
  const item: ErrorItem = { code: err.code, status: String(err.status), detail: err.message };
  if (err.code === 'ValidationException' && err.meta) item.meta = { source_field: err.meta.source_field, rule: err.meta.rule };
  return { errors: [item] };
}

export function sendAppError(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  return reply.code(err.status).type('application/json').send(appErrorBody(err));
}

/** The single place errors become HTTP responses. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const fe = err as FastifyError;
    if (Array.isArray(fe.validation)) {
      return reply.code(422).type('application/json').send({ errors: validationItems(fe.validation as unknown as AjvLikeError[]) });
    }
    if (isAppError(err)) {
      if (err.status >= 500) request.log.error({ err, code: err.code }, 'request failed');
      return sendAppError(reply, err);
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad media type, body too large, …): same shape, their message.
      return reply.code(status).type('application/json').send({ errors: [{ code: status === 413 ? 'PayloadTooLargeHttpException' : status === 415 ? 'UnsupportedMediaTypeHttpException' : 'BadRequestHttpException', status: String(status), detail: fe.message }] });
    }
    request.log.error({ err }, 'unexpected error');
    return sendAppError(reply, PanelErrors.unexpected());
  });
}
