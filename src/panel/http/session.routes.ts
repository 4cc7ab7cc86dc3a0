import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { PanelContext } from '../context.ts';
import type { PublicUser } from '../services/users.service.ts';
import { PanelErrors } from '../errors.ts';
import { sha256Hex } from '../services/crypto.ts';
import { RateLimiter } from '../services/rate-limiter.ts';
import { clientAuthHook, requireClientAuth, SESSION_COOKIE, XSRF_COOKIE } from './client-auth.ts';

function userObject(u: PublicUser) {
  return { object: 'user' as const, attributes: { uuid: u.uuid, email: u.email, username: u.username, root_admin: u.rootAdmin } };
}

const UserObject = Type.Object({
  object: Type.Literal('user'),
  attributes: Type.Object({ uuid: Type.String(), email: Type.String(), username: Type.String(), root_admin: Type.Boolean() }),
});

/** Browser sign-in for the web UI: an HttpOnly session cookie plus a readable XSRF-TOKEN cookie. */
export async function sessionRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const cookieBase = { path: '/', sameSite: 'lax' as const, secure: ctx.config.secureCookies };
  // Attempts per address and email within 5 minutes, counted in the database (every panel process
  // shares the count); a success clears them.
  const attempts = new RateLimiter(ctx.repos, ctx.deps.clock, 'login', ctx.config.loginAttemptLimit, 300);

  app.post('/auth/login', {
    schema: {
      tags: ['session'],
      body: Type.Object({ email: Type.String({ maxLength: 191 }), password: Type.String({ maxLength: 1024 }) }),
      response: { 200: UserObject },
    },
  }, async (request, reply: FastifyReply) => {
    const body = request.body as { email: string; password: string };
    // Hashed: the key column is bounded and an e-mail address need not sit in a counter table.
    const throttleKey = sha256Hex(`${request.ip}|${body.email.trim().toLowerCase()}`);
    // Counted before the password is checked, in one atomic step: of attempts racing on several
    // panels at most `limit` reach the password check; the next is refused whichever panel gets it.
    const r = await attempts.hit(throttleKey);
    if (!r.allowed) throw PanelErrors.tooManyLogins(r.retryAfterSeconds);
    const s = await ctx.services.sessions.login(body.email, body.password);
    await attempts.clear(throttleKey);
    const maxAge = ctx.config.sessionTtlSeconds;
    reply.setCookie(SESSION_COOKIE, s.sessionId, { ...cookieBase, httpOnly: true, maxAge });
    reply.setCookie(XSRF_COOKIE, s.csrfToken, { ...cookieBase, httpOnly: false, maxAge });
    return userObject(s.user);
  });

  app.post('/auth/logout', { schema: { tags: ['session'] } }, async (request, reply) => {
    const sid = request.cookies?.[SESSION_COOKIE];
    if (sid) await ctx.services.sessions.logout(sid);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    reply.clearCookie(XSRF_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/client/account', {
    schema: { tags: ['client'], response: { 200: UserObject } },
    preValidation: clientAuthHook(ctx),
  }, async (request) => userObject(requireClientAuth(request).user));
}
