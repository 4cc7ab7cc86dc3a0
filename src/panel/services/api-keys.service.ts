import { randomAlnum, safeEqual, sha256Hex } from './crypto.ts';
import { isoNow, type ServiceDeps } from './deps.ts';
import { toPublicUser, type PublicUser } from './users.service.ts';
import type { ApiKeyRow, UserRow } from '../db/schema.ts';

export type ApiKeyType = 'client' | 'application';

const PREFIX: Record<ApiKeyType, string> = { client: 'ptlc_', application: 'ptla_' };
/** Upstream layout: a 16-character identifier (prefix included) followed by a 32-character secret. */
const IDENTIFIER_LENGTH = 16;
/** How stale `last_used_at` may get before a request refreshes it. */
const TOUCH_EVERY_MS = 60_000;
const SECRET_LENGTH = 32;

export interface CreatedApiKey {
  /** The full key; shown once, only its hash is kept. */
  key: string;
  identifier: string;
  type: ApiKeyType;
  memo: string;
  createdAt: string;
}

export interface AuthenticatedKey {
  user: PublicUser;
  apiKeyId: number;
  type: ApiKeyType;
}

/** Key rows (as read) → the secret that matched their hash; dropped with the row. */
const VERIFIED = new WeakMap<ApiKeyRow, string>();

export class ApiKeysService {
  constructor(private readonly d: ServiceDeps) {}

  async create(userId: number, opts: { type?: ApiKeyType; memo?: string } = {}): Promise<CreatedApiKey> {
    const type = opts.type ?? 'client';
    const identifier = PREFIX[type] + randomAlnum(IDENTIFIER_LENGTH - PREFIX[type].length);
    const secret = randomAlnum(SECRET_LENGTH);
    const at = isoNow(this.d.clock);
    await this.d.repos.apiKeys.insert({ user_id: userId, key_type: type, identifier, token_hash: sha256Hex(secret), memo: opts.memo ?? '', at });
    return { key: identifier + secret, identifier, type, memo: opts.memo ?? '', createdAt: at };
  }

  async list(userId: number): Promise<Array<{ identifier: string; type: ApiKeyType; memo: string; lastUsedAt: string | null; createdAt: string }>> {
    const rows = await this.d.repos.apiKeys.listByUser(userId);
    return rows.map((r) => ({ identifier: r.identifier, type: r.key_type, memo: r.memo, lastUsedAt: r.last_used_at, createdAt: r.created_at }));
  }

  async delete(userId: number, identifier: string): Promise<boolean> {
    return this.d.repos.apiKeys.delete(userId, identifier);
  }

  /** Resolves a bearer value; undefined when it is not a valid key (caller answers 401). */
  async authenticate(bearer: string): Promise<AuthenticatedKey | undefined> {
    return (await this.authenticateWith(bearer, (identifier) => this.d.repos.apiKeys.findWithUser(identifier)))?.key;
  }

  /**
   * As authenticate, with the key read by `lookup` together with whatever else the request needs
   * (the client API reads the server it names in the same statement: ServerScopeRepository.findWithKey).
   */
  async authenticateWith<T extends { key: ApiKeyRow; user: UserRow }>(bearer: string, lookup: (identifier: string) => Promise<T | undefined>): Promise<{ key: AuthenticatedKey; found: T } | undefined> {
    if (bearer.length !== IDENTIFIER_LENGTH + SECRET_LENGTH) return undefined;
    const found = await lookup(bearer.slice(0, IDENTIFIER_LENGTH));
    if (!found) return undefined;
    const secret = bearer.slice(IDENTIFIER_LENGTH);
    // A row kept in memory (ServerScopeRepository.findWithKeyKept) remembers the secret that matched
    // it: compared as it is, not hashed again (SHA-256 was ~3 % of the backup list's CPU under load).
    const matched = VERIFIED.get(found.key);
    if (matched !== undefined ? !safeEqual(matched, secret) : !safeEqual(found.key.token_hash, sha256Hex(secret))) return undefined;
    VERIFIED.set(found.key, secret);
    const { key: row, user } = found;
    // last_used_at is shown to the minute; writing it on every request would make every client
    // API read a database write (measured: docs/benchmarks.md, the load section).
    const now = this.d.clock();
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= TOUCH_EVERY_MS) {
      await this.d.repos.apiKeys.touch(row.id, now.toISOString());
      // The row may be one a panel keeps in memory (ServerScopeRepository.findWithKeyKept): it now says when.
      row.last_used_at = now.toISOString();
    }
    return { key: { user: toPublicUser(user), apiKeyId: row.id, type: row.key_type }, found };
  }
}

