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
import { KNOWN_PERMISSIONS, type PublicSubuser } from '../services/subusers.service.ts';
import { clientAuthHook } from './client-auth.ts';
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

/** Group and key descriptions for `GET /api/client/permissions` (what a UI shows next to each checkbox). */
const GROUP_DESCRIPTIONS: Record<string, string> = {
  websocket: 'Connecting to the server websocket: console output and live events.',
  control: 'Power state of the server and console commands.',
  user: 'Managing other subusers of the server. Nobody can edit their own account or grant permissions they lack.',
  file: 'Access to the server files.',
  backup: 'Creating and managing server backups.',
  allocation: 'Network allocations of the server.',
  startup: 'Startup parameters of the server.',
  database: 'Databases of the server.',
  schedule: 'Scheduled tasks of the server (including scheduled backups).',
  settings: 'Server settings.',
  activity: 'The server activity log.',
};
const KEY_DESCRIPTIONS: Record<string, string> = {
  'websocket.connect': 'Allows a user to connect to the websocket of the server.',
  'backup.create': 'Allows a user to create new backups for this server.',
  'backup.read': 'Allows a user to view all backups that exist for this server.',
  'backup.delete': 'Allows a user to remove backups from the system (also governs locking).',
  'backup.download': 'Allows a user to download a backup for the server. Danger: this allows a user to access all files for the server in the backup.',
  'backup.restore': 'Allows a user to restore a backup for the server. Danger: this allows the user to delete all of the server files in the process.',
  'user.create': 'Allows a user to add subusers to the server.',
  'user.read': 'Allows a user to view subusers and their permissions.',
  'user.update': 'Allows a user to change the permissions of other subusers.',
  'user.delete': 'Allows a user to remove subusers from the server.',
  'schedule.create': 'Allows a user to create schedules.',
  'schedule.read': 'Allows a user to view schedules and their tasks.',
  'schedule.update': 'Allows a user to change schedules and their tasks.',
  'schedule.delete': 'Allows a user to delete schedules.',
  'activity.read': 'Allows a user to view the activity log of the server.',
};

export function permissionCatalogue(): Record<string, { description: string; keys: Record<string, string> }> {
  const out: Record<string, { description: string; keys: Record<string, string> }> = {};
  for (const full of KNOWN_PERMISSIONS) {
    const [group, key] = full.split('.') as [string, string];
    out[group] ??= { description: GROUP_DESCRIPTIONS[group] ?? '', keys: {} };
    out[group].keys[key] = KEY_DESCRIPTIONS[full] ?? '';
  }
  return out;
}

const PermissionCatalogue = Type.Object({
  object: Type.Literal('system_permissions'),
  attributes: Type.Object({
    permissions: Type.Record(Type.String(), Type.Object({ description: Type.String(), keys: Type.Record(Type.String(), Type.String()) })),
  }),
});

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

  app.get('/api/client/permissions', {
    schema: { tags: ['subusers'], summary: 'Every permission key a subuser can be given, grouped, with descriptions', response: { 200: PermissionCatalogue } },
    preValidation: clientAuthHook(ctx),
  }, async () => ({ object: 'system_permissions' as const, attributes: { permissions: permissionCatalogue() } }));

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
