import type { FastifyReply, FastifyRequest } from 'fastify';
import { PanelErrors } from '../errors.ts';
import type { PanelContext } from '../context.ts';
import type { Actor } from '../services/deps.ts';
import type { PublicUser } from '../services/users.service.ts';
import { safeEqual } from '../services/crypto.ts';
import { RateLimiter } from '../services/rate-limiter.ts';
import type { ServerScopeRow } from '../repositories/server-scope.repository.ts';

export const SESSION_COOKIE = 'backwing_session';
export const XSRF_COOKIE = 'XSRF-TOKEN';
export const XSRF_HEADER = 'x-xsrf-token';

export interface ClientAuth {
  user: PublicUser;
  actor: Actor;
  via: 'api_key' | 'session';
}

declare module 'fastify' {
  interface FastifyRequest {
    clientAuth?: ClientAuth;
    rateLimitHeaders?: Record<string, string>;
    /** The server scope read with the request's key (undefined: not read; null: no such server). */
    prefetchedScope?: ServerScopeRow | null;
  }
}

/** The largest slice of a user's client API allowance one panel takes in one write (docs/benchmarks.md). */
export const CLIENT_MAX_LEASE = 32;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// One limiter per panel context (tests run several panels in one process); the count itself is in
// the database, shared by every panel process.
const limiters = new WeakMap<PanelContext, RateLimiter>();

async function enforceRateLimit(ctx: PanelContext, request: FastifyRequest, userId: number): Promise<void> {
  const limit = ctx.config.clientRateLimitPerMinute;
  if (limit <= 0) return;
  let w = limiters.get(ctx);
  if (!w) {
    // Leases (rate-limiter.ts): a busy user's hits are counted in the database up to CLIENT_MAX_LEASE at a time.
    w = new RateLimiter(ctx.repos, ctx.deps.clock, 'client', limit, 60, { maxLease: CLIENT_MAX_LEASE });
    limiters.set(ctx, w);
  }
  const r = await w.hit(String(userId));
  request.rateLimitHeaders = { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': String(r.remaining) };
  if (!r.allowed) throw PanelErrors.rateLimited(r.retryAfterSeconds);
}

export function requestIp(request: FastifyRequest): string | null {
  return request.ip ?? null;
}

/**
 * Client API authentication: a `ptlc_` key, or the browser session cookie. An application key is
 * refused with upstream's 403; cookie-authenticated unsafe requests must echo the XSRF token.
 */
export async function authenticateClient(ctx: PanelContext, request: FastifyRequest, serverRouteKey?: string, opts: { kept?: boolean } = {}): Promise<ClientAuth> {
  if (request.clientAuth) return request.clientAuth;
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw PanelErrors.unauthenticated();
    let key;
    if (serverRouteKey === undefined) {
      key = await ctx.services.apiKeys.authenticate(m[1]!);
    } else {
      // A route on a server: its scope comes with the key (one statement; server-scope.ts uses it).
      // A read-only route may use the answer kept in memory (ServerScopeRepository.findWithKeyKept).
      const scopes = ctx.repos.serverScopes;
      const r = await ctx.services.apiKeys.authenticateWith(m[1]!, opts.kept ? (identifier) => scopes.findWithKeyKept(identifier, serverRouteKey) : (identifier) => scopes.findWithKey(identifier, serverRouteKey));
      if (r) request.prefetchedScope = r.found.scope ?? null;
      key = r?.key;
    }
    if (!key) throw PanelErrors.unauthenticated();
    if (key.type !== 'client') throw PanelErrors.applicationKeyOnClientRoute();
    await enforceRateLimit(ctx, request, key.user.id);
    request.clientAuth = {
      user: key.user,
      via: 'api_key',
      actor: { userId: key.user.id, userUuid: key.user.uuid, rootAdmin: key.user.rootAdmin, apiKeyId: key.apiKeyId, ip: requestIp(request) },
    };
    return request.clientAuth;
  }
  const sessionId = request.cookies?.[SESSION_COOKIE];
  if (!sessionId) throw PanelErrors.unauthenticated();
  const session = await ctx.services.sessions.resolve(sessionId);
  if (!session) throw PanelErrors.unauthenticated();
  if (!SAFE_METHODS.has(request.method)) {
    // Double submit: the header must match the cookie, and the cookie must be this session's.
    const sent = request.headers[XSRF_HEADER];
    const cookie = request.cookies?.[XSRF_COOKIE];
    if (typeof sent !== 'string' || !cookie || !safeEqual(sent, cookie) || !safeEqual(cookie, session.csrfToken)) {
      throw PanelErrors.csrfMismatch();
    }
  }
  await enforceRateLimit(ctx, request, session.user.id);
  request.clientAuth = {
    user: session.user,
    via: 'session',
    actor: { userId: session.user.id, userUuid: session.user.uuid, rootAdmin: session.user.rootAdmin, apiKeyId: null, ip: requestIp(request) },
  };
  return request.clientAuth;
}

/** A hook for a whole route scope. */
export function clientAuthHook(ctx: PanelContext) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    await authenticateClient(ctx, request);
  };
}

export function requireClientAuth(request: FastifyRequest): ClientAuth {
  if (!request.clientAuth) throw PanelErrors.unauthenticated();
  return request.clientAuth;
}
