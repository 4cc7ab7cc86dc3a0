import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/app-error.ts';

/**
 * Pterodactyl clients (nodeactyl, jspteroapi) send `Content-Type: application/json` with an empty
 * body on POST and DELETE; Fastify's default parser rejects that with 400. Empty means "no body".
 */
export function installTolerantJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('BadRequestHttpException', 400, 'The request body is not valid JSON.'), undefined);
    }
  });
}

/**
 * Laravel's TrimStrings + ConvertEmptyStringsToNull, then nulls dropped: a nullable field sent as
 * null means the same as leaving it out, and a required one sent as null must fail as "required".
 */
export function normaliseBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map((v) => (typeof v === 'string' ? v.trim() : normaliseBody(v)));
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    // Laravel's TrimStrings leaves passwords alone, and so do we.
    const value = typeof v === 'string' ? (/^password/.test(k) ? v : v.trim()) : normaliseBody(v);
    if (value === '' || value === null || value === undefined) continue;
    out[k] = value;
  }
  return out;
}
