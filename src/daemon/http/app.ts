/**
 * Builds the daemon's Fastify app (not listening). Bearer auth applies to the `/api` routes in an
 * encapsulated scope; the download, websocket, metrics and docs routes sit outside it.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type RouteOptions } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { VERSION } from '../../core/version.ts';
import type { DaemonHttpDeps } from './deps.ts';
import { bearerGuard } from './auth.ts';
import { daemonErrorHandler } from './error-handler.ts';
import { backupRoutes } from './backup.routes.ts';
import { resticRoutes } from './restic.routes.ts';
import { inventoryRoutes } from './inventory.routes.ts';
import { systemRoutes } from './system.routes.ts';
import { downloadRoutes } from './download.routes.ts';
import { browseDownloadRoutes, browseRoutes } from './browse.routes.ts';
import { wsRoutes } from './ws.routes.ts';
import { DaemonMessages, daemonErrors } from '../errors.ts';
import { describeJsonProblem, parseBoundedJson } from '../../core/json-limits.ts';

const CORS_HEADERS = {
  'access-control-allow-credentials': 'true',
  'access-control-allow-methods': 'GET, POST, PATCH, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'Accept, Accept-Encoding, Authorization, Cache-Control, Content-Type, Content-Length, Origin, X-Real-IP, X-CSRF-Token, Range',
  'access-control-max-age': '7200',
};

export interface BuildDaemonAppOptions {
  docs?: boolean;
  metrics?: boolean;
  /** Sees every route as it is registered (tests enumerate the routes from the app itself). */
  onRoute?: (route: RouteOptions) => void;
}

export async function buildDaemonApp(deps: DaemonHttpDeps, opts: BuildDaemonAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Fastify's own request log prints the full URL, and /download/backup carries its token in
    // the query string: we log requests ourselves, path only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Errors raised before routing (an undecodable `%ZZ` in the path) skip setErrorHandler;
    // answer them in the same `{error, request_id}` shape as everything else.
    frameworkErrors: (err, req, reply) => {
      (reply as FastifyReply).code(400).header('x-request-id', req.id).send({ error: `The request is invalid: ${err.message}`, request_id: req.id });
    },
  });

  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

  // Pterodactyl clients send `Content-Type: application/json` with an empty body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    let parsed: ReturnType<typeof parseBoundedJson>;
    try {
      parsed = parseBoundedJson(body as string);
    } catch (err) {
      (err as { statusCode?: number }).statusCode = 400;
      return done(err as Error, undefined);
    }
    if ('problem' in parsed) return done(daemonErrors.badRequest(describeJsonProblem(parsed.problem)), undefined);
    done(null, parsed.value);
  });

  let panelOrigin = '';
  try {
    panelOrigin = new URL(deps.config.remote).origin;
  } catch {
    // validated by config
  }
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const origin = req.headers.origin;
    const allowed = deps.config.allowedOrigins;
    const allowOrigin = origin && allowed.includes('*') ? '*' : origin && allowed.includes(origin) ? origin : panelOrigin;
    reply.headers({ ...CORS_HEADERS, 'access-control-allow-origin': allowOrigin });
    if (req.method === 'OPTIONS') return reply.code(204).send();
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler(daemonErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: DaemonMessages.resourceNotFound, request_id: req.id });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'backwing daemon API', version: VERSION, description: 'Wings-compatible backup API of the backwing daemon.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  if (opts.docs !== false) await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  await app.register(async (scope) => {
    scope.addHook('onRequest', bearerGuard(deps.config.token));
    scope.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), security: [{ bearer: [] }] } as typeof route.schema;
    });
    await scope.register(async (s) => systemRoutes(s, deps));
    await scope.register(async (s) => backupRoutes(s, deps));
    await scope.register(async (s) => inventoryRoutes(s, deps));
    await scope.register(async (s) => browseRoutes(s, deps));
    await scope.register(async (s) => resticRoutes(s, deps));
  });
  await app.register(async (s) => downloadRoutes(s, deps));
  await app.register(async (s) => browseDownloadRoutes(s, deps));
  await app.register(async (s) => wsRoutes(s, deps));

  // Unauthenticated on purpose (scrapers rarely carry tokens); it reveals counts only. Set
  // metrics.port to move it to its own listener (metrics.host, loopback by default).
  if (opts.metrics !== false) {
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });
  }
  return app as unknown as FastifyInstance;
}
