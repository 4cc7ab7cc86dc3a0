import type { NodeRow, ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import type { Repos } from '../repositories/index.ts';
import type { Actor } from './deps.ts';

/** What a user may do on one server. Owners and root admins hold every permission ("*"). */
export interface ServerAccess {
  isOwner: boolean;
  all: boolean;
  permissions: string[];
}

export function can(access: ServerAccess, permission: string): boolean {
  return access.all || access.permissions.includes(permission);
}

export function requirePermission(access: ServerAccess, permission: string): void {
  if (!can(access, permission)) throw PanelErrors.forbidden();
}

/** The caller's access, or undefined when they have none (the route answers 404, not 403). */
export async function resolveAccess(repos: Repos, actor: Actor, server: ServerRow): Promise<ServerAccess | undefined> {
  const whole = wholeAccess(actor, server);
  if (whole) return whole;
  const sub = await repos.subusers.find(actor.userId, server.id);
  return accessOf(actor, server, sub ? sub.permissions : null);
}

/** As resolveAccess, from the caller's subuser permissions already read (null: not a subuser). */
export function accessOf(actor: Actor, server: ServerRow, subuserPermissions: string | null): ServerAccess | undefined {
  const whole = wholeAccess(actor, server);
  if (whole) return whole;
  if (subuserPermissions === null) return undefined;
  return { isOwner: false, all: false, permissions: parsePermissions(subuserPermissions) };
}

function wholeAccess(actor: Actor, server: ServerRow): ServerAccess | undefined {
  if (server.owner_id === actor.userId) return { isOwner: true, all: true, permissions: ['*'] };
  if (actor.rootAdmin) return { isOwner: false, all: true, permissions: ['*'] };
  return undefined;
}

export function parsePermissions(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Upstream's 409 checks, first match wins (panel-backups.md §1.1 step 5). */
export function assertServerUsable(server: ServerRow, node: NodeRow): void {
  if (server.status === 'suspended') throw PanelErrors.serverSuspended();
  if (node.maintenance === 1) throw PanelErrors.nodeMaintenance();
  if (server.status === 'installing' || server.status === 'install_failed') throw PanelErrors.serverInstalling();
  if (server.status === 'restoring_backup') throw PanelErrors.serverRestoring();
}
