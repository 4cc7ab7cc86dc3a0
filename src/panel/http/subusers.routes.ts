/**
 * Subusers (`/api/client/servers/{server}/users…`), upstream's routes and shapes. Managing
 * subusers needs the `user.*` permissions (owners and root admins hold all), and nobody can hand
 * out a permission they do not hold themselves, so a subuser with `user.create` cannot escalate.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/app-error.ts';
import type { PanelContext } from '../context.ts';
import { PanelErrors } from '../errors.ts';
import { requirePermission } from '../services/access.ts';
import type { PublicSubuser } from '../services/subusers.service.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });
const SubuserParams = Type.Object({ server: Type.String(), user: Type.String({ description: 'The subuser\'s user uuid' }) });

const SubuserAttributes = Type.Object({
  uuid: Type.String(),
  username: Type.String(),
  email: Type.String(),
  image: Type.String(),
  '2fa_enabled': Type.Boolean(),
  created_at: Type.String(),
  permissions: Type.Array(Type.String()),
});
const SubuserObject = Type.Object({ object: Type.Literal('server_subuser'), attributes: SubuserAttributes });
const SubuserList = Type.Object({ object: Type.Literal('list'), data: Type.Array(SubuserObject) });

const CreateBody = Type.Object({
  email: Type.String({ maxLength: 191 }),
  permissions: Type.Array(Type.String()),
});
const UpdateBody = Type.Object({
  permissions: Type.Array(Type.String()),
});

export function subuserObject(s: PublicSubuser) {
  return {
    object: 'server_subuser' as const,
    attributes: {
      uuid: s.uuid,
      username: s.username,
      email: s.email,
      image: `https://gravatar.com/avatar/${createHash('md5').update(s.email.toLowerCase().trim()).digest('hex')}`,
      '2fa_enabled': false,
      created_at: s.createdAt,
      permissions: s.permissions,
    },
  };
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Upstream: a caller without full access may only grant permissions it holds itself. */
function assertCanAssign(request: FastifyRequest, permissions: string[]): void {
  const { access } = scopeOf(request);
  if (access.all) return;
  const missing = permissions.filter((p) => p !== 'websocket.connect' && !access.permissions.includes(p));
  if (missing.length > 0) {
    throw new AppError('HttpForbiddenException', 403, 'Cannot assign permissions to a subuser that your account does not actively possess.');
  }
}

function assertNotSelf(request: FastifyRequest, subuser: PublicSubuser): void {
  if (scopeOf(request).auth.user.id === subuser.userId) {
    throw new AppError('HttpForbiddenException', 403, 'You cannot modify your own subuser account.');
  }
}

export async function subuserRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const subusers = ctx.services.subusers;

  /** Scope (auth, 404s, 409) → the {user} binding (404) → the permission (403), before body validation. */
  function withSubuser(permission: string) {
    const scope = serverScopeHook(ctx);
    return async (request: FastifyRequest, reply: Parameters<ReturnType<typeof serverScopeHook>>[1]) => {
      await scope(request, reply);
      const { server, access } = scopeOf(request);
      const target = await subusers.get(server, (request.params as { user: string }).user.toLowerCase());
      if (!target) throw PanelErrors.resourceNotFound();
      requirePermission(access, permission);
      (request as FastifyRequest & { subuser?: PublicSubuser }).subuser = target;
    };
  }
  const targetOf = (request: FastifyRequest): PublicSubuser => {
    const s = (request as FastifyRequest & { subuser?: PublicSubuser }).subuser;
    if (!s) throw PanelErrors.resourceNotFound();
    return s;
  };

  app.get('/api/client/servers/:server/users', {
    schema: { tags: ['subusers'], summary: 'List subusers', params: ServerParams, response: { 200: SubuserList } },
    preValidation: serverScopeHook(ctx, { permission: 'user.read' }),
  }, async (request) => {
    const list = await subusers.list(scopeOf(request).server);
    return { object: 'list' as const, data: list.map(subuserObject) };
  });

  app.post('/api/client/servers/:server/users', {
    schema: { tags: ['subusers'], summary: 'Add a subuser by email (the account is created when new)', params: ServerParams, body: CreateBody, response: { 200: SubuserObject } },
    preValidation: serverScopeHook(ctx, { permission: 'user.create' }),
  }, async (request) => {
    const body = request.body as { email: string; permissions: string[] };
    if (!EMAIL_RE.test(body.email.trim())) throw PanelErrors.validation('email', 'email', 'The email must be a valid email address.');
    assertCanAssign(request, body.permissions);
    const { server, auth } = scopeOf(request);
    const created = await subusers.create(server, { email: body.email, permissions: body.permissions });
    await ctx.services.activity.log({
      event: 'server:subuser.create', actor: auth.actor,
      properties: { email: created.email, permissions: created.permissions },
      subjects: [{ type: 'server', id: server.id }, { type: 'user', id: created.userId }],
    });
    return subuserObject(created);
  });

  app.get('/api/client/servers/:server/users/:user', {
    schema: { tags: ['subusers'], summary: 'View a subuser', params: SubuserParams, response: { 200: SubuserObject } },
    preValidation: withSubuser('user.read'),
  }, async (request) => subuserObject(targetOf(request)));

  app.post('/api/client/servers/:server/users/:user', {
    schema: { tags: ['subusers'], summary: "Replace a subuser's permissions", params: SubuserParams, body: UpdateBody, response: { 200: SubuserObject } },
    preValidation: withSubuser('user.update'),
  }, async (request) => {
    const target = targetOf(request);
    assertNotSelf(request, target);
    const body = request.body as { permissions: string[] };
    assertCanAssign(request, body.permissions);
    const { server, auth } = scopeOf(request);
    const updated = await subusers.update(server, target.uuid, body.permissions);
    await ctx.services.activity.log({
      event: 'server:subuser.update', actor: auth.actor,
      properties: { email: updated.email, old: target.permissions, new: updated.permissions },
      subjects: [{ type: 'server', id: server.id }, { type: 'user', id: updated.userId }],
    });
    return subuserObject(updated);
  });

  app.delete('/api/client/servers/:server/users/:user', {
    schema: { tags: ['subusers'], summary: 'Remove a subuser (the account stays)', params: SubuserParams },
    preValidation: withSubuser('user.delete'),
  }, async (request, reply) => {
    const target = targetOf(request);
    assertNotSelf(request, target);
    const { server, auth } = scopeOf(request);
    await subusers.delete(server, target.uuid);
    await ctx.services.activity.log({
      event: 'server:subuser.delete', actor: auth.actor,
      properties: { email: target.email },
      subjects: [{ type: 'server', id: server.id }, { type: 'user', id: target.userId }],
    });
    return reply.code(204).send();
  });
}
