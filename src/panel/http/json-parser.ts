import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/app-error.ts';
import { describeJsonProblem, parseBoundedJson } from '../../core/json-limits.ts';

/**
 * Pterodactyl clients (nodeactyl, jspteroapi) send `Content-Type: application/json` with an empty
 * body on POST and DELETE; Fastify's default parser rejects that with 400. Empty means "no body".
 */
export function installTolerantJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    let parsed: ReturnType<typeof parseBoundedJson>;
    try {
      parsed = parseBoundedJson(text);
    } catch {
      return done(new AppError('BadRequestHttpException', 400, 'The request body is not valid JSON.'), undefined);
    }
    // Bounded before anything walks the value (the normaliser and the NUL check recurse).
    if ('problem' in parsed) return done(new AppError('BadRequestHttpException', 400, describeJsonProblem(parsed.problem)), undefined);
    done(null, parsed.value);
  });
}

type SchemaLike = { type?: unknown; anyOf?: SchemaLike[]; oneOf?: SchemaLike[]; properties?: Record<string, SchemaLike>; items?: SchemaLike };

function acceptsNull(schema: SchemaLike | undefined): boolean {
  if (!schema || typeof schema !== 'object') return true;
  const t = schema.type;
  if (t === 'null' || (Array.isArray(t) && t.includes('null'))) return true;
  if (schema.anyOf) return schema.anyOf.some(acceptsNull);
  if (schema.oneOf) return schema.oneOf.some(acceptsNull);
  // No type at all: anything goes, null included.
  return t === undefined;
}

/**
 * Laravel's TrimStrings + ConvertEmptyStringsToNull (passwords untouched). A null where the route's
 * schema does not allow one is removed instead: the validator would otherwise coerce it to
 * false/0/"", and Laravel treats such a null as missing ("required") rather than as a value.
 */
export function normaliseBody(body: unknown, schema?: SchemaLike): unknown {
  if (Array.isArray(body)) return body.map((v) => (typeof v === 'string' ? emptyToNull(v.trim()) : normaliseBody(v, schema?.items)));
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const propSchema = schema?.properties?.[k];
    const value = typeof v === 'string' ? (/^password/.test(k) ? v : emptyToNull(v.trim())) : normaliseBody(v, propSchema);
    if (value === null && schema?.properties && propSchema && !acceptsNull(propSchema)) continue;
    if (value === undefined) continue;
    out[k] = value;
  }
  return out;
}

function emptyToNull(v: string): string | null {
  return v === '' ? null : v;
}
