import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ServerObject, WebsocketCredentials, Pagination, type ServerObject as ServerObjectT } from '../../wire/client-api.ts';
import { bytesLimitOf } from '../services/servers.service.ts';
import type { PanelContext } from '../context.ts';
import type { NodeRow, ServerRow } from '../db/schema.ts';
import { resolveAccess, type ServerAccess } from '../services/access.ts';
import { atom } from '../services/backup-view.ts';
import { signWebsocketToken } from '../tokens.ts';
import { nodeConnection } from '../services/deps.ts';
import { clientAuthHook, requireClientAuth } from './client-auth.ts';
import { paginationMeta, readPage } from './pagination.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });

export function serverObject(server: ServerRow, node: NodeRow, access: ServerAccess): ServerObjectT {
  return {
    object: 'server',
    attributes: {
      server_owner: access.isOwner,
      identifier: server.identifier,
      uuid: server.uuid,
      name: server.name,
      node: node.name,
      status: server.status,
      is_suspended: server.status === 'suspended',
      is_installing: server.status === 'installing' || server.status === 'install_failed',
      is_transferring: false,
      feature_limits: { databases: 0, allocations: 0, backups: server.backup_limit, backup_bytes: bytesLimitOf(server) },
    },
    meta: { is_server_owner: access.isOwner, user_permissions: access.all ? ['*'] : access.permissions },
  };
}

const ServerList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(ServerObject),
  meta: Type.Object({ pagination: Pagination }),
});

const ActivityList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({
    object: Type.Literal('activity_log'),
    attributes: Type.Object({
      id: Type.Integer(),
      event: Type.String(),
      is_api: Type.Boolean(),
      ip: Type.Union([Type.String(), Type.Null()]),
      properties: Type.Record(Type.String(), Type.Unknown()),
      timestamp: Type.String(),
      actor: Type.Union([Type.Null(), Type.Object({ uuid: Type.String(), email: Type.String(), username: Type.String() })]),
    }),
  })),
  meta: Type.Object({ pagination: Pagination }),
});

/** The daemon's websocket for a server: http(s)://host:port → ws(s)://host:port/api/servers/<uuid>/ws. */
export function daemonSocketUrl(node: NodeRow, serverUuid: string): string {
  const u = new URL(node.url);
  const scheme = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${u.host}/api/servers/${serverUuid}/ws`;
}

export async function clientRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;

  // `type`: upstream lists owned + subuser servers by default; `admin-all` lets a root admin see every server.
  app.get('/api/client', {
    schema: { tags: ['client'], response: { 200: ServerList } },
    preValidation: clientAuthHook(ctx),
  }, async (request) => {
    const auth = requireClientAuth(request);
    const { page, perPage } = readPage(request, 50, 100);
    const type = (request.query as Record<string, unknown> | undefined)?.type;
    const scope = type === 'owner' ? { kind: 'owned' as const, userId: auth.user.id }
      : (type === 'admin-all' || type === 'admin') && auth.user.rootAdmin ? { kind: 'all' as const }
      : { kind: 'accessible' as const, userId: auth.user.id };
    const r = await ctx.repos.servers.list(scope, { page, perPage });
    const data: ServerObjectT[] = [];
    const nodes = new Map<number, NodeRow>();
    for (const s of r.rows) {
      const node = nodes.get(s.node_id) ?? (await ctx.repos.nodes.findById(s.node_id))!;
      nodes.set(s.node_id, node);
      const access = (await resolveAccess(ctx.repos, auth.actor, s)) ?? { isOwner: false, all: true, permissions: ['*'] };
      data.push(serverObject(s, node, access));
    }
    return { object: 'list', data, meta: { pagination: paginationMeta(ctx.config.appUrl, request.url, page, perPage, r.total, data.length) } };
  });

  app.get('/api/client/servers/:server', {
    schema: { tags: ['client'], params: ServerParams, response: { 200: ServerObject } },
    preValidation: serverScopeHook(ctx, { allowAnyState: true }),
  }, async (request) => {
    const { server, node, access } = scopeOf(request);
    return serverObject(server, node, access);
  });

  // Not blocked during a restore (upstream blocks it): the UI needs the socket to see the restore finish.
  app.get('/api/client/servers/:server/websocket', {
    schema: { tags: ['client'], params: ServerParams, response: { 200: WebsocketCredentials } },
    preValidation: serverScopeHook(ctx, { allowAnyState: true, permission: 'websocket.connect' }),
  }, async (request) => {
    const { server, node, access, auth } = scopeOf(request);
    const token = await signWebsocketToken(nodeConnection(node), {
      serverUuid: server.uuid,
      userUuid: auth.user.uuid,
      userId: auth.user.id,
      permissions: access.all ? ['*'] : access.permissions,
    });
    return { data: { token, socket: daemonSocketUrl(node, server.uuid) } };
  });

  app.get('/api/client/servers/:server/activity', {
    schema: { tags: ['client'], params: ServerParams, response: { 200: ActivityList } },
    preValidation: serverScopeHook(ctx, { allowAnyState: true, permission: 'activity.read' }),
  }, async (request) => {
    const { server } = scopeOf(request);
    const { page, perPage } = readPage(request, 25, 100);
    const r = await ctx.services.activity.listForServer(server.id, page, perPage);
    return {
      object: 'list',
      data: r.entries.map((e) => ({
        object: 'activity_log' as const,
        attributes: { id: e.id, event: e.event, is_api: e.isApi, ip: e.ip, properties: e.properties, timestamp: atom(e.timestamp), actor: e.actor },
      })),
      meta: { pagination: paginationMeta(ctx.config.appUrl, request.url, page, perPage, r.total, r.entries.length) },
    };
  });
}
