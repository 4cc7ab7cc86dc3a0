import { randomToken, sha256Hex } from './crypto.ts';
import { isoNow, type ServiceDeps } from './deps.ts';
import { toPublicUser, type PublicUser, type UsersService } from './users.service.ts';

export interface NewSession {
  /** Cookie value; only its hash is stored. */
  sessionId: string;
  csrfToken: string;
  user: PublicUser;
  expiresAt: string;
}

/** Browser sessions for the web UI (cookie + double-submit CSRF token). */
export class SessionsService {
  constructor(private readonly d: ServiceDeps, private readonly users: UsersService) {}

  async login(email: string, password: string): Promise<NewSession> {
    const user = await this.users.verifyCredentials(email, password);
    const sessionId = randomToken(32);
    const csrfToken = randomToken(24);
    const now = this.d.clock();
    const expiresAt = new Date(now.getTime() + this.d.config.sessionTtlSeconds * 1000).toISOString();
    await this.d.repos.sessions.deleteExpired(now.toISOString());
    await this.d.repos.sessions.insert({ id_hash: sha256Hex(sessionId), user_id: user.id, csrf_token: csrfToken, expires_at: expiresAt, at: now.toISOString() });
    return { sessionId, csrfToken, user, expiresAt };
  }

  async resolve(sessionId: string): Promise<{ user: PublicUser; csrfToken: string } | undefined> {
    const found = await this.d.repos.sessions.findWithUser(sha256Hex(sessionId));
    if (!found || found.session.expires_at <= isoNow(this.d.clock)) return undefined;
    return { user: toPublicUser(found.user), csrfToken: found.session.csrf_token };
  }

  async logout(sessionId: string): Promise<void> {
    await this.d.repos.sessions.deleteByHash(sha256Hex(sessionId));
  }
}
