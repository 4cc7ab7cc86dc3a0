/**
 * The application API (`/api/application/...`): provisioning for root admins with `ptla_` keys,
 * in Pterodactyl's shapes. Rules live in the services; this file maps HTTP to them.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PanelErrors } from '../../errors.ts';
import type { ApiKeysService } from '../../services/api-keys.service.ts';
import type { NodesService, PublicNode } from '../../services/nodes.service.ts';
import { normaliseBackupBytesLimit, type ServersService, type PublicServer } from '../../services/servers.service.ts';
import type { UsersService, PublicUser } from '../../services/users.service.ts';
import type { EggsService, PublicEgg } from '../../services/eggs.service.ts';
import type { ResticService, ResticSettingsInput } from '../../services/restic.service.ts';
import { ResticSettingsBody, ResticSettingsObject, ResticUpkeepList } from './restic-schemas.ts';
import { dbIdOf, MAX_DB_ID, MAX_PAGE } from '../route-values.ts';
import { authenticateAdmin, type AdminSessionAuth } from './application-auth.ts';
import { nodeConfiguration } from './node-configuration.ts';
import { nodeObject, paginationMeta, serverObject, userObject } from './application-views.ts';
import {
  NodeBackupIgnoreBody,
  IdParams, PageQuery, CreateUserBody, CreateNodeBody, CreateServerBody, ServerDetailsBody, ServerBuildBody, ServerStartupBody,
  UserObject, UserList, NodeObject, CreatedNodeObject, NodeList, ServerObject, ServerList, EggBody, EggObject, EggList,
} from './application-schemas.ts';

export interface ApplicationApiDeps {
  users: UsersService;
  apiKeys: ApiKeysService;
  nodes: NodesService;
  servers: ServersService;
  /** backwing: per-node restic repositories; without it the `/nodes/:id/restic` routes are absent. */
  restic?: ResticService;
  /** Public panel URL, for pagination links (read per request: tests learn it after listen). */
  appUrl: () => string;
  /** The daemon token of a node, for its configuration document; without it that route is absent. */
  nodeCredentials?: (nodeId: number) => Promise<{ tokenId: string; token: string } | undefined>;
  /** backwing: the web UI's admin pages (quota, ignore defaults) sign in with a root admin's session. */
  sessionAuth?: AdminSessionAuth;
  /** backwing (issue 17): game types (eggs), for servers' `egg`/`nest` and the `/eggs` routes. */
  eggs?: EggsService;
}

const DEFAULT_PER_PAGE = 50;
const MAX_PER_PAGE = 100;

function pageOf(q: { page?: string; per_page?: string }): { page: number; perPage: number } {
  const page = Number.parseInt(q.page ?? '', 10);
  const perPage = Number.parseInt(q.per_page ?? '', 10);
  return {
    page: Number.isInteger(page) && page > 0 ? Math.min(page, MAX_PAGE) : 1,
    perPage: Number.isInteger(perPage) && perPage > 0 ? Math.min(perPage, MAX_PER_PAGE) : DEFAULT_PER_PAGE,
  };
}

/** Digits mean an id; an id no row can have is simply not found (never a database error). */
const isNumericId = (v: string): boolean => /^\d+$/.test(v);
const numericId = (v: string): number => dbIdOf(v) ?? 0;

/** Integer fields arrive as numbers or numeric strings from scripts; anything else is a 422 naming the field. */
export function intField(value: unknown, field: string, opts: { required?: boolean } = {}): number | undefined {
  if (value === undefined || value === null || value === '') {
    if (opts.required) throw PanelErrors.validation(field, 'required', `The ${field} field is required.`);
    return undefined;
  }
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw PanelErrors.validation(field, 'integer', `The ${field} must be an integer.`);
  // Every integer column is a 32-bit integer on PostgreSQL.
  if (n > MAX_DB_ID) throw PanelErrors.validation(field, 'max', `The ${field} must not be greater than ${MAX_DB_ID}.`);
  return n;
}

export function stringField(value: unknown, field: string, opts: { required?: boolean } = {}): string | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (opts.required) throw PanelErrors.validation(field, 'required', `The ${field} field is required.`);
    return undefined;
  }
  if (typeof value !== 'string') throw PanelErrors.validation(field, 'string', `The ${field} must be a string.`);
  return value;
}

export function boolField(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  throw PanelErrors.validation(field, 'boolean', `The ${field} field must be true or false.`);
}

export function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw PanelErrors.validation('body', 'object', 'The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

/** Upstream nodes are `scheme` + `fqdn` + `daemon_listen`; backwing stores one URL and accepts either form. */
function nodeUrlFrom(body: Record<string, unknown>): string {
  const url = stringField(body.url, 'url');
  if (url) return url;
  const fqdn = stringField(body.fqdn, 'url', { required: true })!;
  const scheme = stringField(body.scheme, 'scheme') ?? 'http';
  const port = intField(body.daemon_listen, 'daemon_listen') ?? 8080;
  const host = fqdn.includes(':') && !fqdn.startsWith('[') ? `[${fqdn}]` : fqdn;
  return `${scheme}://${host}:${port}`;
}

function backupLimitFrom(body: Record<string, unknown>): number | undefined {
  const fl = body.feature_limits;
  if (fl !== undefined && fl !== null) {
    if (typeof fl !== 'object' || Array.isArray(fl)) throw PanelErrors.validation('feature_limits', 'array', 'The feature limits must be an object.');
    const v = intField((fl as Record<string, unknown>).backups, 'feature_limits.backups');
    if (v !== undefined) return v;
  }
  return intField(body.backup_limit, 'backup_limit');
}

/** backwing: `feature_limits.backup_bytes` (storage quota); undefined = not given, null = none. */
function backupBytesLimitFrom(body: Record<string, unknown>): number | null | undefined {
  const fl = body.feature_limits;
  if (fl === undefined || fl === null || typeof fl !== 'object' || Array.isArray(fl)) return undefined;
  const raw = (fl as Record<string, unknown>).backup_bytes;
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  return normaliseBackupBytesLimit(raw);
}

export const applicationRoutes: FastifyPluginAsync<{ deps: ApplicationApiDeps }> = async (app: FastifyInstance, opts) => {
  const { users, apiKeys, nodes, servers } = opts.deps;

  const base = (): string => `${opts.deps.appUrl().replace(/\/+$/, '')}/api/application`;

  app.addHook('onRequest', async (request) => {
    await authenticateAdmin(apiKeys, opts.deps.sessionAuth, request);
  });

  async function userByParam(id: string): Promise<PublicUser> {
    const u = isNumericId(id) ? await users.findById(numericId(id)) : await users.findByUuid(id);
    if (!u) throw PanelErrors.resourceNotFound();
    return u;
  }
  async function nodeByParam(id: string): Promise<PublicNode> {
    const n = isNumericId(id) ? await nodes.findById(numericId(id)) : await nodes.find(id);
    if (!n) throw PanelErrors.resourceNotFound();
    return n;
  }
  async function serverView(s: PublicServer) {
    const egg = s.eggId === null ? undefined : await opts.deps.eggs?.find(s.eggId);
    return serverObject(s, egg?.nest);
  }
  async function serverByParam(id: string): Promise<PublicServer> {
    // A numeric id wins (upstream's meaning); an identifier may be all digits too ("12345678"), so
    // a number that is no server's id is looked up as an identifier or uuid next.
    const s = (isNumericId(id) ? await servers.findById(numericId(id)) : null) ?? await servers.find(id);
    if (!s) throw PanelErrors.resourceNotFound();
    return s;
  }

  // ---- users ----
  app.get('/users', { schema: { querystring: PageQuery, summary: 'List users (filter[email] supported)', response: { 200: UserList } } }, async (request) => {
    const q = request.query as { page?: string; per_page?: string; 'filter[email]'?: string };
    const p = pageOf(q);
    if (q['filter[email]'] !== undefined) {
      const u = await users.findByEmail(q['filter[email]'].toLowerCase());
      const data = u ? [userObject(u)] : [];
      return { object: 'list', data, meta: paginationMeta({ total: data.length, count: data.length, page: 1, perPage: p.perPage, baseUrl: `${base()}/users` }) };
    }
    const r = await users.list(p.page, p.perPage);
    return { object: 'list', data: r.users.map(userObject), meta: paginationMeta({ total: r.total, count: r.users.length, ...p, baseUrl: `${base()}/users` }) };
  });

  app.get('/users/:id', { schema: { params: IdParams, summary: 'View a user', response: { 200: UserObject } } }, async (request) => {
    return userObject(await userByParam((request.params as { id: string }).id));
  });

  app.post('/users', { schema: { body: CreateUserBody, summary: 'Create a user (password optional: a random one is set when absent)', response: { 201: UserObject } } }, async (request, reply) => {
    const body = bodyOf(request);
    const email = stringField(body.email, 'email', { required: true })!;
    const password = stringField(body.password, 'password') ?? randomBytes(24).toString('base64url');
    const u = await users.create({
      email,
      username: stringField(body.username, 'username'),
      password,
      rootAdmin: boolField(body.root_admin, 'root_admin') ?? false,
    });
    return reply.code(201).send(userObject(u));
  });

  app.delete('/users/:id', { schema: { params: IdParams, summary: 'Delete a user without servers' } }, async (request, reply) => {
    const u = await userByParam((request.params as { id: string }).id);
    const owned = await servers.list({ kind: 'owned', userId: u.id }, 1, 1);
    if (owned.total > 0) throw PanelErrors.conflict('Cannot delete a user with active servers attached to their account.');
    await users.delete(u.id);
    return reply.code(204).send();
  });

  // ---- nodes ----
  app.get('/nodes', { schema: { querystring: PageQuery, summary: 'List nodes', response: { 200: NodeList } } }, async (request) => {
    const p = pageOf(request.query as { page?: string; per_page?: string });
    const all = await nodes.list();
    const rows = all.slice((p.page - 1) * p.perPage, p.page * p.perPage);
    return { object: 'list', data: rows.map(nodeObject), meta: paginationMeta({ total: all.length, count: rows.length, ...p, baseUrl: `${base()}/nodes` }) };
  });

  app.get('/nodes/:id', { schema: { params: IdParams, summary: 'View a node', response: { 200: NodeObject } } }, async (request) => {
    return nodeObject(await nodeByParam((request.params as { id: string }).id));
  });

  app.put('/nodes/:id/backup-ignore', {
    schema: {
      params: IdParams, body: NodeBackupIgnoreBody, response: { 200: NodeObject },
      summary: "Set the node's default ignore patterns (backwing extension)",
      description: 'backwing extension. Newline-separated gitignore-style patterns every backup on this node gets, merged below each server\'s .pteroignore and the request\'s own patterns (the last match wins, so those can re-include). Empty or null clears them. 422 with the line when a pattern is malformed.',
    },
  }, async (request) => {
    const n = await nodeByParam((request.params as { id: string }).id);
    const body = bodyOf(request);
    if (body.patterns !== null && typeof body.patterns !== 'string') throw PanelErrors.validation('patterns', 'string', 'The patterns field must be a string or null.');
    return nodeObject(await nodes.setBackupIgnore(n.id, body.patterns as string | null));
  });

  app.post('/nodes', { schema: { body: CreateNodeBody, summary: 'Create a node; the daemon token is returned once in meta', response: { 201: CreatedNodeObject } } }, async (request, reply) => {
    const body = bodyOf(request);
    const created = await nodes.create({ name: stringField(body.name, 'name', { required: true })!, url: nodeUrlFrom(body) });
    return reply.code(201).send({ ...nodeObject(created), meta: { token_id: created.tokenId, token: created.token } });
  });

  const nodeCredentials = opts.deps.nodeCredentials;
  if (nodeCredentials) {
    app.get('/nodes/:id/configuration', { schema: { params: IdParams, summary: "The node's daemon configuration (Wings keys; usable as backwing's daemon config)" } }, async (request) => {
      const n = await nodeByParam((request.params as { id: string }).id);
      const creds = await nodeCredentials(n.id);
      if (!creds) throw PanelErrors.resourceNotFound();
      return nodeConfiguration(n, creds, opts.deps.appUrl());
    });
  }

  // ---- restic (backwing) ----
  const restic = opts.deps.restic;
  if (restic) {
    const description = 'backwing extension. One restic repository per node; the panel generates its password, stores it sealed with APP_KEY and never returns it (docs/restic.md).';
    app.get('/nodes/:id/restic', { schema: { params: IdParams, summary: "A node's restic repository settings (backwing)", description, response: { 200: ResticSettingsObject } } }, async (request) => {
      const n = await nodeByParam((request.params as { id: string }).id);
      const view = await restic.view(n.id);
      if (!view) throw PanelErrors.resourceNotFound();
      return { object: 'node_restic', attributes: view };
    });
    app.put('/nodes/:id/restic', { schema: { params: IdParams, body: ResticSettingsBody, summary: "Set a node's restic repository (backwing)", description, response: { 200: ResticSettingsObject } } }, async (request) => {
      const n = await nodeByParam((request.params as { id: string }).id);
      const view = await restic.configure(n.id, request.body as ResticSettingsInput);
      return { object: 'node_restic', attributes: view };
    });
    app.get('/destinations/:id/restic-upkeep', {
      schema: {
        params: IdParams,
        summary: "A restic destination's prune and check state, per repository (backwing)",
        description: 'backwing extension. One entry per node holding backups in a path repository (a separate repository on each node); one entry for an s3: repository (one repository, pruned and checked through the node named). Empty for other kinds (docs/restic.md).',
        response: { 200: ResticUpkeepList },
      },
    }, async (request) => {
      const rows = await restic.destinationUpkeep((request.params as { id: string }).id);
      return { object: 'list', data: rows.map((attributes) => ({ object: 'restic_upkeep' as const, attributes })) };
    });
  }

  // ---- eggs (backwing, issue 17) ----
  const eggs = opts.deps.eggs;
  if (eggs) {
    const eggView = (e: PublicEgg) => ({ object: 'egg' as const, attributes: { id: e.id, nest: e.nest, name: e.name, backup_ignore: e.backupIgnore } });
    const eggIdOf = (request: FastifyRequest): number => {
      const id = dbIdOf((request.params as { id: string }).id);
      if (id === undefined || id <= 0) throw PanelErrors.resourceNotFound();
      return id;
    };
    app.get('/eggs', { schema: { summary: 'List game types (eggs) and their default ignore patterns (backwing extension)', response: { 200: EggList } } }, async () => {
      return { object: 'list', data: (await eggs.list()).map(eggView) };
    });
    app.put('/eggs/:id', {
      schema: {
        params: IdParams, body: EggBody, response: { 200: EggObject },
        summary: 'Create or change a game type (egg) and its default ignore patterns (backwing extension)',
        description: "backwing extension. The id is the egg's id in the upstream panel (servers name it in `egg`). `backup_ignore`: newline-separated gitignore-style patterns every backup of the egg's servers gets, merged above the node's defaults and below each server's .pteroignore and the request's own (the last match wins). Empty or null clears them; 422 with the line when a pattern is malformed.",
      },
    }, async (request) => {
      const body = bodyOf(request);
      if (body.backup_ignore !== undefined && body.backup_ignore !== null && typeof body.backup_ignore !== 'string') throw PanelErrors.validation('backup_ignore', 'string', 'The backup_ignore field must be a string or null.');
      return eggView(await eggs.set(eggIdOf(request), {
        ...(body.name !== undefined ? { name: stringField(body.name, 'name', { required: true })! } : {}),
        ...(body.nest !== undefined ? { nest: intField(body.nest, 'nest') ?? 0 } : {}),
        ...(body.backup_ignore !== undefined ? { backupIgnore: body.backup_ignore as string | null } : {}),
      }));
    });
    app.delete('/eggs/:id', { schema: { params: IdParams, summary: 'Delete a game type (its servers keep running without its defaults; backwing extension)' } }, async (request, reply) => {
      await eggs.delete(eggIdOf(request));
      return reply.code(204).send();
    });
  }

  // ---- servers ----
  app.get('/servers', { schema: { querystring: PageQuery, summary: 'List servers', response: { 200: ServerList } } }, async (request) => {
    const p = pageOf(request.query as { page?: string; per_page?: string });
    const r = await servers.list({ kind: 'all' }, p.page, p.perPage);
    const nests = new Map((await opts.deps.eggs?.list() ?? []).map((e) => [e.id, e.nest]));
    return { object: 'list', data: r.rows.map((s) => serverObject(s, nests.get(s.eggId ?? 0))), meta: paginationMeta({ total: r.total, count: r.rows.length, ...p, baseUrl: `${base()}/servers` }) };
  });

  app.get('/servers/:id', { schema: { params: IdParams, summary: 'View a server (id, uuid or identifier)', response: { 200: ServerObject } } }, async (request) => {
    return serverView(await serverByParam((request.params as { id: string }).id));
  });

  app.post('/servers', { schema: { body: CreateServerBody, summary: 'Create a server and tell its node\'s daemon', response: { 201: ServerObject } } }, async (request, reply) => {
    const body = bodyOf(request);
    const name = stringField(body.name, 'name', { required: true })!;
    const ownerId = intField(body.user, 'user', { required: true })!;
    let nodeId = intField(body.node ?? body.node_id, 'node');
    if (nodeId === undefined) {
      // Upstream picks a node through allocations; backwing has none, so a lone node is the obvious choice.
      const all = await nodes.list();
      if (all.length !== 1) throw PanelErrors.validation('node', 'required', 'The node field is required.');
      nodeId = all[0]!.id;
    }
    const created = await servers.create({ name, ownerId, nodeId, backupLimit: backupLimitFrom(body) ?? 0, backupBytesLimit: backupBytesLimitFrom(body) ?? null, eggId: intField(body.egg, 'egg') ?? null });
    return reply.code(201).send(await serverView(created));
  });

  app.patch('/servers/:id/details', { schema: { params: IdParams, body: ServerDetailsBody, summary: 'Rename a server or change its owner', response: { 200: ServerObject } } }, async (request) => {
    const s = await serverByParam((request.params as { id: string }).id);
    const body = bodyOf(request);
    const ownerId = intField(body.user, 'user');
    if (ownerId !== undefined && !(await users.findById(ownerId))) throw PanelErrors.validation('user', 'exists', 'The selected user is invalid.');
    return serverView(await servers.update(s.id, { name: stringField(body.name, 'name'), ownerId }));
  });

  app.patch('/servers/:id/build', { schema: { params: IdParams, body: ServerBuildBody, summary: 'Change limits (feature_limits.backups; backwing: feature_limits.backup_bytes)', response: { 200: ServerObject } } }, async (request) => {
    const s = await serverByParam((request.params as { id: string }).id);
    const body = bodyOf(request);
    const limit = backupLimitFrom(body);
    const bytes = backupBytesLimitFrom(body);
    if (limit === undefined && bytes === undefined) return serverView(s);
    return serverView(await servers.update(s.id, { ...(limit !== undefined ? { backupLimit: limit } : {}), ...(bytes !== undefined ? { backupBytesLimit: bytes } : {}) }));
  });

  app.patch('/servers/:id/startup', {
    schema: {
      params: IdParams, body: ServerStartupBody, response: { 200: ServerObject },
      summary: "Change a server's egg (backwing keeps only the egg: its backups get the egg's default ignore patterns)",
      description: 'Upstream changes the startup command, image and egg here; backwing has no game process and reads only `egg` (an egg set up with PUT /eggs/{id}; 0 or null = none; 422 for an unknown egg). Other fields are ignored.',
    },
  }, async (request) => {
    const s = await serverByParam((request.params as { id: string }).id);
    const body = bodyOf(request);
    if (!('egg' in body)) return serverView(s);
    return serverView(await servers.update(s.id, { eggId: intField(body.egg, 'egg') ?? null }));
  });

  app.post('/servers/:id/suspend', { schema: { params: IdParams, summary: 'Suspend a server' } }, async (request, reply) => {
    const s = await serverByParam((request.params as { id: string }).id);
    await servers.setSuspended(s.id, true);
    return reply.code(204).send();
  });

  app.post('/servers/:id/unsuspend', { schema: { params: IdParams, summary: 'Unsuspend a server' } }, async (request, reply) => {
    const s = await serverByParam((request.params as { id: string }).id);
    await servers.setSuspended(s.id, false);
    return reply.code(204).send();
  });

  const deleteServer = async (request: FastifyRequest, reply: FastifyReply) => {
    const s = await serverByParam((request.params as { id: string }).id);
    await servers.delete(s.id);
    return reply.code(204).send();
  };
  app.delete('/servers/:id', { schema: { params: IdParams, summary: 'Delete a server (its backup rows go with it)' } }, deleteServer);
  // Upstream's force variant skips asking the daemon; backwing never asks it on delete, so both are the same.
  app.delete('/servers/:id/force', { schema: { params: IdParams, summary: 'Delete a server (same as DELETE /servers/{id})' } }, deleteServer);
};
