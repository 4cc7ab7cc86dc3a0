import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BackupRow, NodeRow, ServerRow } from '../db/schema.ts';
import type { PanelContext } from '../context.ts';
import { PanelErrors } from '../errors.ts';
import { accessOf, assertServerUsable, requirePermission, type ServerAccess } from '../services/access.ts';
import { authenticateClient, type ClientAuth } from './client-auth.ts';

/** What a `/api/client/servers/{server}/…` route works on, resolved before validation. */
export interface ServerScope {
  auth: ClientAuth;
  server: ServerRow;
  node: NodeRow;
  access: ServerAccess;
  backup?: BackupRow;
  /** Versions what the server's backup list shows (migration 0014; backup-list-cache.ts). */
  backupListVersion: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    serverScope?: ServerScope;
  }
}

export interface ScopeOptions {
  /** Permission key the route needs; checked after the 404s and the 409. */
  permission?: string;
  /** Skip the server-state 409 (server details, websocket credentials, activity). */
  allowAnyState?: boolean;
  /** A read-only route: the key and scope may come from memory (ServerScopeRepository.findWithKeyKept). */
  kept?: boolean;
}

/**
 * Upstream's order (panel-backups.md §1.1), with access checked before the backup (both 404, so the
 * status is upstream's; the message names what is missing): auth → server → access (404) → backup
 * (404) → server state (409) → permission (403). Runs as a preValidation hook so a caller
 * without permission gets 403 before a bad body would give 422.
 */
export function serverScopeHook(ctx: PanelContext, opts: ScopeOptions = {}) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const params = request.params as { server?: string; backup?: string };
    const auth = await authenticateClient(ctx, request, params.server || undefined, opts);
    // The server, its node and the caller's subuser row in one query, read on every request (a
    // removed subuser or a node put in maintenance takes effect at once, on every panel); with a
    // key, read together with the key (authenticateClient).
    const found = request.prefetchedScope !== undefined ? request.prefetchedScope ?? undefined
      : params.server ? await ctx.repos.serverScopes.find(auth.actor.userId, params.server) : undefined;
    if (!found) throw PanelErrors.serverNotFoundNamed(params.server ?? '');
    const { server, node } = found;
    // Access before the backup lookup: someone who cannot see the server learns nothing of its backups.
    const access = accessOf(auth.actor, server, found.subuserPermissions);
    if (!access) throw PanelErrors.serverNotFoundNamed(params.server ?? '');
    let backup: BackupRow | undefined;
    if (params.backup !== undefined) {
      backup = await ctx.repos.backups.findLiveForServer(server.id, params.backup);
      if (!backup) throw PanelErrors.backupNotFoundNamed(params.backup);
    }
    if (!opts.allowAnyState) assertServerUsable(server, node);
    if (opts.permission) requirePermission(access, opts.permission);
    request.serverScope = { auth, server, node, access, backup, backupListVersion: found.backupListVersion };
  };
}

export function scopeOf(request: FastifyRequest): ServerScope {
  if (!request.serverScope) throw PanelErrors.unexpected();
  return request.serverScope;
}

export function backupOf(request: FastifyRequest): BackupRow {
  const b = scopeOf(request).backup;
  if (!b) throw PanelErrors.resourceNotFound();
  return b;
}
