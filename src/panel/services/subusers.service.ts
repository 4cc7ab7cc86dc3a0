import type { ServerRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { BACKUP_PERMISSIONS } from '../../wire/client-api.ts';
import { parsePermissions } from './access.ts';
import { randomToken } from './crypto.ts';
import { isoNow, type ServiceDeps } from './deps.ts';
import type { UsersService } from './users.service.ts';

/** Permission keys a subuser may hold (upstream's names; backwing acts on the backup, websocket, user, schedule and activity ones). */
export const KNOWN_PERMISSIONS: readonly string[] = [
  'websocket.connect',
  ...BACKUP_PERMISSIONS,
  'user.create', 'user.read', 'user.update', 'user.delete',
  'schedule.create', 'schedule.read', 'schedule.update', 'schedule.delete',
  'activity.read',
  'control.console', 'control.start', 'control.stop', 'control.restart',
  'file.create', 'file.read', 'file.read-content', 'file.update', 'file.delete', 'file.archive', 'file.sftp',
  'allocation.read', 'allocation.create', 'allocation.update', 'allocation.delete',
  'startup.read', 'startup.update', 'startup.docker-image',
  'database.create', 'database.read', 'database.update', 'database.delete', 'database.view_password',
  'settings.rename', 'settings.reinstall',
];

export interface PublicSubuser {
  id: number;
  userId: number;
  uuid: string;
  email: string;
  username: string;
  permissions: string[];
  createdAt: string;
}

function validatePermissions(perms: unknown): string[] {
  if (!Array.isArray(perms)) throw PanelErrors.validation('permissions', 'array', 'The permissions must be an array.');
  perms.forEach((p, i) => {
    if (typeof p !== 'string' || !KNOWN_PERMISSIONS.includes(p)) {
      throw PanelErrors.validation(`permissions.${i}`, 'in', `The selected permissions.${i} is invalid.`);
    }
  });
  // Upstream always grants websocket.connect so the console works for any subuser.
  return [...new Set(['websocket.connect', ...(perms as string[])])];
}

export class SubusersService {
  constructor(private readonly d: ServiceDeps, private readonly users: UsersService) {}

  async list(server: ServerRow): Promise<PublicSubuser[]> {
    const rows = await this.d.repos.subusers.listByServer(server.id);
    return rows.map((r) => ({ id: r.id, userId: r.user_id, uuid: r.user_uuid, email: r.email, username: r.username, permissions: parsePermissions(r.permissions), createdAt: r.created_at }));
  }

  async get(server: ServerRow, userUuid: string): Promise<PublicSubuser | undefined> {
    return (await this.list(server)).find((s) => s.uuid === userUuid);
  }

  /** Adds a user (created with an unusable random password when the email is new) as subuser. */
  async create(server: ServerRow, input: { email: string; permissions: unknown }): Promise<PublicSubuser> {
    const permissions = validatePermissions(input.permissions);
    const email = String(input.email ?? '').trim().toLowerCase();
    let user = await this.users.findByEmail(email);
    if (!user) user = await this.users.create({ email, password: randomToken(24) });
    if (user.id === server.owner_id) throw PanelErrors.validation('email', 'not_owner', 'Cannot add the owner of a server as a subuser.');
    if (await this.d.repos.subusers.find(user.id, server.id)) {
      throw PanelErrors.validation('email', 'unique', 'A user with that email address is already assigned as a subuser for this server.');
    }
    await this.d.repos.subusers.insert({ user_id: user.id, server_id: server.id, permissions, at: isoNow(this.d.clock) });
    return (await this.get(server, user.uuid))!;
  }

  async update(server: ServerRow, userUuid: string, permissions: unknown): Promise<PublicSubuser> {
    const perms = validatePermissions(permissions);
    const existing = await this.get(server, userUuid);
    if (!existing) throw PanelErrors.resourceNotFound();
    await this.d.repos.subusers.updatePermissions(existing.id, perms, isoNow(this.d.clock));
    return (await this.get(server, userUuid))!;
  }

  async delete(server: ServerRow, userUuid: string): Promise<void> {
    const existing = await this.get(server, userUuid);
    if (!existing) throw PanelErrors.resourceNotFound();
    await this.d.repos.subusers.delete(existing.id);
  }

  /** Direct grant by user id (tests, CLI). */
  async grant(serverId: number, userId: number, permissions: string[]): Promise<void> {
    const existing = await this.d.repos.subusers.find(userId, serverId);
    if (existing) await this.d.repos.subusers.updatePermissions(existing.id, permissions, isoNow(this.d.clock));
    else await this.d.repos.subusers.insert({ user_id: userId, server_id: serverId, permissions, at: isoNow(this.d.clock) });
  }
}
