import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { PanelContext } from '../context.ts';
import type { PublicUser } from '../services/users.service.ts';
import { PanelErrors } from '../errors.ts';
import { RateWindow } from '../services/rate-window.ts';
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
  // Failed attempts per address and email; a success clears them.
  const failures = new RateWindow(ctx.config.loginAttemptLimit, 300, ctx.deps.clock);

  app.post('/auth/login', {
    schema: {
      tags: ['session'],
      body: Type.Object({ email: Type.String({ maxLength: 191 }), password: Type.String({ maxLength: 1024 }) }),
      response: { 200: UserObject },
    },
  }, async (request, reply: FastifyReply) => {
    const body = request.body as { email: string; password: string };
    const throttleKey = `${request.ip}|${body.email.trim().toLowerCase()}`;
    // Checked before the password, so a blocked address cannot keep guessing.
    const wait = failures.blockedFor(throttleKey);
    if (wait > 0) throw PanelErrors.tooManyLogins(wait);
    let s;
    try {
      s = await ctx.services.sessions.login(body.email, body.password);
    } catch (err) {
      failures.hit(throttleKey);
      throw err;
    }
    failures.clear(throttleKey);
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
