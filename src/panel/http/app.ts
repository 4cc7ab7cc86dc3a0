/**
 * The panel's Fastify app, without listening (tests and startPanel both build it here).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { PanelContext } from '../context.ts';
import { AppError } from '../../core/app-error.ts';
import { PanelErrors } from '../errors.ts';
import { backupRoutes } from './backups.routes.ts';
import { backupControlRoutes } from './backup-control.routes.ts';
import { clientRoutes } from './client.routes.ts';
import { docsPlugin } from './docs.plugin.ts';
import { installErrorHandler, sendAppError } from './error-handler.ts';
import { installTolerantJsonParser, normaliseBody } from './json-parser.ts';
import { lazyRequestLogger } from './lazy-request-logger.ts';
import { metricsPlugin, type PanelMetricsRegistry } from './metrics.plugin.ts';
import { notificationRoutes } from './notifications.routes.ts';
import { remoteRoutes } from './remote.routes.ts';
import { nulPath } from './route-values.ts';
import { retentionRoutes } from './retention.routes.ts';
import { scheduleRoutes } from './schedules.routes.ts';
import { sessionRoutes } from './session.routes.ts';
import { applicationRoutes } from './application/application.routes.ts';
import { destinationRoutes } from './application/destinations.routes.ts';
import { authenticateClient } from './client-auth.ts';
import { subuserRoutes } from './subusers.routes.ts';

export interface BuildPanelAppOptions {
  /** Serve /docs (default true). */
  docs?: boolean;
  /** Overrides the metrics registry found on the context. */
  metrics?: PanelMetricsRegistry;
  /** Sees every route as it is registered (tests enumerate the routes from the app itself). */
  onRoute?: (route: RouteOptions) => void;
}

/** Paths that never fall back to the web UI's index.html. */
const API_PREFIXES = ['/api', '/auth', '/docs', '/metrics'];

function isMetricsRegistry(m: unknown): m is PanelMetricsRegistry {
  return typeof m === 'object' && m !== null && 'registry' in m && 'httpRequest' in m;
}

export async function buildPanelApp(ctx: PanelContext, opts: BuildPanelAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger,
    // Each request's child logger is made when it first writes something (lazy-request-logger.ts).
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: 1024 * 1024,
    // Behind a load balancer: the client's address from X-Forwarded-For, only when the hop that
    // sent it is one of TRUSTED_PROXIES (login limit and activity log are per client, not per proxy).
    ...(ctx.config.trustedProxies.length > 0 ? { trustProxy: ctx.config.trustedProxies } : {}),
    // One 422 entry per failing field needs every error, not the first.
    ajv: { customOptions: { allErrors: true } },
    // The router's own refusals would otherwise answer in Fastify's shape, not ours.
    frameworkErrors: (err, _request, reply) => {
      // An over-long path segment cannot name anything that exists.
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendAppError(reply, PanelErrors.routeNotFound());
      return sendAppError(reply, new AppError('BadRequestHttpException', 400, 'The request URL is not valid.'));
    },
  }) as unknown as FastifyInstance;

  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  installTolerantJsonParser(app);
  installErrorHandler(app);
  await app.register(cookie);

  // Hooks on every request take a callback, not a promise: an async hook costs Fastify a promise
  // and its microtasks per request (the client API's hot path, docs/benchmarks.md).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.rateLimitHeaders) reply.headers(request.rateLimitHeaders);
    done(null, payload);
  });

  app.addHook('preValidation', (request, _reply, done) => {
    // PostgreSQL refuses NUL in text, which would surface as a 500; no stored value can contain one.
    if (nulPath(request.params)) return done(PanelErrors.routeNotFound());
    const bad = nulPath(request.query) ?? nulPath(request.body);
    if (bad) return done(PanelErrors.validation(bad, 'string', `The ${bad.replace(/_/g, ' ')} field must not contain NUL characters.`));
    try {
      if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH')) request.body = {};
      else if (request.body !== undefined) request.body = normaliseBody(request.body, request.routeOptions.schema?.body as Parameters<typeof normaliseBody>[1]);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });

  // ---- Plugins (docs, metrics, …). Docs first: swagger must see every route registered after it. ----
  if (opts.docs !== false) await app.register(docsPlugin, { appUrl: ctx.config.appUrl });
  const metrics = opts.metrics ?? (isMetricsRegistry(ctx.deps.metrics) ? ctx.deps.metrics : undefined);
  if (metrics) await app.register(metricsPlugin, { metrics });
  // ---- end of plugins ----

  await app.register(sessionRoutes, { ctx });
  await app.register(clientRoutes, { ctx });
  await app.register(backupRoutes, { ctx });
  await app.register(backupControlRoutes, { ctx });
  await app.register(remoteRoutes, { ctx });

  // ---- Route plugins of other areas (application API, subusers, schedules, retention) go here. ----
  await app.register(applicationRoutes, {
    prefix: '/api/application',
    deps: {
      users: ctx.services.users,
      apiKeys: ctx.services.apiKeys,
      nodes: ctx.services.nodes,
      servers: ctx.services.servers,
      restic: ctx.services.restic,
      eggs: ctx.services.eggs,
      sessionAuth: async (request) => ({ rootAdmin: (await authenticateClient(ctx, request)).user.rootAdmin }),
      appUrl: () => ctx.config.appUrl,
      nodeCredentials: async (id) => {
        const n = await ctx.repos.nodes.findById(id);
        return n ? { tokenId: n.daemon_token_id, token: n.daemon_token } : undefined;
      },
    },
  });
  await app.register(destinationRoutes, {
    prefix: '/api/application',
    deps: {
      apiKeys: ctx.services.apiKeys, destinations: ctx.services.destinations, nodes: ctx.services.nodes, servers: ctx.services.servers,
      sessionAuth: async (request) => ({ rootAdmin: (await authenticateClient(ctx, request)).user.rootAdmin }),
    },
  });
  await app.register(subuserRoutes, { ctx });
  await app.register(scheduleRoutes, { ctx });
  await app.register(retentionRoutes, { ctx });
  await app.register(notificationRoutes, { ctx });
  // ---- end of route plugins ----

  const webDir = ctx.config.webDistDir;
  const hasWeb = !!webDir && existsSync(join(webDir, 'index.html')) && statSync(webDir).isDirectory();
  if (hasWeb) {
    await app.register(fastifyStatic, { root: webDir!, prefix: '/', wildcard: true, index: ['index.html'] });
  }

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const isApi = API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
    if (hasWeb && !isApi && (request.method === 'GET' || request.method === 'HEAD')) {
      // Client-side routes of the single-page UI (e.g. /server/abcd1234/backups).
      return reply.type('text/html').sendFile('index.html');
    }
    return sendAppError(reply, PanelErrors.routeNotFound());
  });

  return app;
}
