/**
 * A loopback HTTP server standing in for a daemon that misbehaves (answers 500, 404, refuses).
 * Only for failure cases; flows that need a working daemon use the real one.
 */
import Fastify, { type FastifyInstance } from 'fastify';

export interface RecordedCall {
  method: string;
  url: string;
  body: unknown;
  authorization: string | undefined;
}

export interface StubDaemon {
  url: string;
  calls: RecordedCall[];
  /** Status per "METHOD path-regex"; first match wins; default 202/204. */
  respond(method: string, pathPattern: RegExp, status: number, body?: unknown): void;
  /** Answers matching calls only after `ms` (a daemon that accepted but whose answer is late). */
  delay(method: string, pathPattern: RegExp, ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startStubDaemon(): Promise<StubDaemon> {
  const app: FastifyInstance = Fastify({ logger: false });
  const calls: RecordedCall[] = [];
  let rules: Array<{ method: string; pattern: RegExp; status: number; body?: unknown }> = [];
  let delays: Array<{ method: string; pattern: RegExp; ms: number }> = [];
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, b, done) => {
    try { done(null, b === '' ? undefined : JSON.parse(String(b))); } catch (e) { done(e as Error, undefined); }
  });
  app.all('/*', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    calls.push({ method: req.method, url: path, body: req.body, authorization: req.headers.authorization });
    const late = delays.find((d) => d.method === req.method && d.pattern.test(path));
    if (late) await new Promise((r) => setTimeout(r, late.ms));
    const rule = rules.find((r) => r.method === req.method && r.pattern.test(path));
    if (rule) return reply.code(rule.status).send(rule.body ?? { error: `stub answered ${rule.status}` });
    return reply.code(req.method === 'DELETE' ? 204 : 202).send();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    respond(method, pathPattern, status, body) {
      rules.unshift({ method, pattern: pathPattern, status, body });
    },
    delay(method, pathPattern, ms) {
      delays.unshift({ method, pattern: pathPattern, ms });
    },
    reset() {
      rules = [];
      delays = [];
      calls.length = 0;
    },
    close: () => app.close(),
  };
}
