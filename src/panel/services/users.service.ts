import { randomUUID } from 'node:crypto';
import type { UserRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './crypto.ts';
import { isoNow, type ServiceDeps } from './deps.ts';

export interface PublicUser {
  id: number;
  uuid: string;
  email: string;
  username: string;
  rootAdmin: boolean;
  createdAt: string;
}

export function toPublicUser(u: UserRow): PublicUser {
  return { id: u.id, uuid: u.uuid, email: u.email, username: u.username, rootAdmin: u.root_admin === 1, createdAt: u.created_at };
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;
const USERNAME_RE = /^[a-z0-9_][a-z0-9_.-]*$/i;
export const MIN_PASSWORD_LENGTH = 8;

export class UsersService {
  constructor(private readonly d: ServiceDeps) {}

  async create(input: { email: string; username?: string; password: string; rootAdmin?: boolean }): Promise<PublicUser> {
    const email = (input.email ?? '').trim().toLowerCase();
    if (!EMAIL_RE.test(email) || email.length > 191) throw PanelErrors.validation('email', 'email', 'The email must be a valid email address.');
    if (typeof input.password !== 'string' || input.password.length < MIN_PASSWORD_LENGTH) {
      throw PanelErrors.validation('password', 'min', `The password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
    }
    let username = input.username?.trim();
    if (username !== undefined && username !== '' && (!USERNAME_RE.test(username) || username.length > 191)) {
      throw PanelErrors.validation('username', 'regex', 'The username may only contain letters, numbers, dashes, underscores and periods.');
    }
    if (await this.d.repos.users.findByEmail(email)) throw PanelErrors.validation('email', 'unique', 'The email has already been taken.');
    if (username) {
      if (await this.d.repos.users.findByUsername(username)) throw PanelErrors.validation('username', 'unique', 'The username has already been taken.');
    } else {
      username = await this.freeUsername(email);
    }
    const row = await this.d.repos.users.insert({
      uuid: randomUUID(), email, username, password_hash: await hashPassword(input.password), root_admin: input.rootAdmin === true, at: isoNow(this.d.clock),
    });
    return toPublicUser(row);
  }

  private async freeUsername(email: string): Promise<string> {
    const base = (email.split('@')[0] ?? 'user').replace(/[^a-z0-9_.-]/gi, '').slice(0, 60) || 'user';
    for (let i = 0; ; i++) {
      const candidate = i === 0 ? base : `${base}${i}`;
      if (!(await this.d.repos.users.findByUsername(candidate))) return candidate;
    }
  }

  async findByEmail(email: string): Promise<PublicUser | undefined> {
    const u = await this.d.repos.users.findByEmail(email.trim());
    return u && toPublicUser(u);
  }

  async findById(id: number): Promise<PublicUser | undefined> {
    const u = await this.d.repos.users.findById(id);
    return u && toPublicUser(u);
  }

  async findByUuid(uuid: string): Promise<PublicUser | undefined> {
    const u = await this.d.repos.users.findByUuid(uuid);
    return u && toPublicUser(u);
  }

  async list(page = 1, perPage = 50): Promise<{ users: PublicUser[]; total: number }> {
    const r = await this.d.repos.users.list({ page, perPage });
    return { users: r.rows.map(toPublicUser), total: r.total };
  }

  async setPassword(id: number, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH) throw PanelErrors.validation('password', 'min', `The password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
    await this.d.repos.users.update(id, { password_hash: await hashPassword(password), at: isoNow(this.d.clock) });
  }

  /** Refused while the user still owns servers (their backups would lose their owner). */
  async delete(id: number): Promise<void> {
    if ((await this.d.repos.users.countOwnedServers(id)) > 0) throw PanelErrors.conflict('Cannot delete a user that still owns servers.');
    await this.d.repos.users.delete(id);
  }

  /**
   * The user for this email and password, or InvalidCredentials. An unknown email still costs one
   * scrypt run so response time does not reveal which emails exist.
   */
  async verifyCredentials(email: string, password: string): Promise<PublicUser> {
    const u = await this.d.repos.users.findByEmail(String(email ?? '').trim());
    const ok = await verifyPassword(String(password ?? ''), u?.password_hash ?? (await dummyPasswordHash()));
    if (!u || !ok) throw PanelErrors.invalidCredentials();
    return toPublicUser(u);
  }
}
