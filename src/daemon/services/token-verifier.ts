/**
 * Verification of panel-signed JWTs (HS256 with the node token) and the one-time store for
 * download tokens.
 */
import { jwtVerify, errors as joseErrors } from 'jose';
import { DOWNLOAD_TOKEN_TTL_SECONDS, TOKEN_CLOCK_SKEW_SECONDS, type BackupDownloadClaims, type BackupFileClaims, type WebsocketClaims } from '../../wire/tokens.ts';
import type { Secret } from '../../core/secret.ts';

export class TokenInvalid extends Error {}

function scopeAllows(scope: unknown, wanted: string): boolean {
  // Panel 1.11 sends no scope; a token that names scopes must name ours.
  if (scope === undefined) return true;
  return typeof scope === 'string' && scope.split(' ').includes(wanted);
}

export class TokenVerifier {
  readonly #key: Uint8Array;

  constructor(token: Secret, private readonly nowMs: () => number = Date.now) {
    this.#key = new TextEncoder().encode(token.reveal());
  }

  /** `ttlSeconds`: the longest lifetime the panel gives this kind of token (null: not bounded). */
  async #verify(jwt: string, ttlSeconds: number | null): Promise<Record<string, unknown>> {
    let payload: Record<string, unknown>;
    const now = Math.floor(this.nowMs() / 1000);
    try {
      payload = (await jwtVerify(jwt, this.#key, { algorithms: ['HS256'], requiredClaims: ['exp'], currentDate: new Date(now * 1000) })).payload as Record<string, unknown>;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) throw new TokenInvalid(err.message);
      throw new TokenInvalid(String(err));
    }
    // A panel never issues longer-lived tokens: one that claims to be is forged or from a leaked key.
    if (ttlSeconds !== null && (typeof payload.exp !== 'number' || payload.exp > now + ttlSeconds + TOKEN_CLOCK_SKEW_SECONDS)) {
      throw new TokenInvalid('token expires too far in the future');
    }
    return payload;
  }

  async download(jwt: string): Promise<BackupDownloadClaims> {
    const p = await this.#verify(jwt, DOWNLOAD_TOKEN_TTL_SECONDS);
    if (typeof p.server_uuid !== 'string' || typeof p.backup_uuid !== 'string' || typeof p.unique_id !== 'string' || p.unique_id === '') {
      throw new TokenInvalid('missing claims');
    }
    if (!scopeAllows(p.scope, 'backup-download')) throw new TokenInvalid('wrong scope');
    return p as unknown as BackupDownloadClaims;
  }

  /** A file-of-a-backup link (backwing): the scope is required, so a whole-backup link cannot serve. */
  async downloadFile(jwt: string): Promise<BackupFileClaims> {
    const p = await this.#verify(jwt, DOWNLOAD_TOKEN_TTL_SECONDS);
    if (typeof p.server_uuid !== 'string' || typeof p.backup_uuid !== 'string' || typeof p.unique_id !== 'string' || p.unique_id === '' || typeof p.path !== 'string') {
      throw new TokenInvalid('missing claims');
    }
    if (p.scope !== 'backup-file') throw new TokenInvalid('wrong scope');
    return p as unknown as BackupFileClaims;
  }

  async websocket(jwt: string): Promise<WebsocketClaims> {
    // Not bounded: a websocket token only opens a stream of events, the daemon re-checks its expiry
    // while the socket lives, and panels (upstream's too) renew it; a download link is the secret.
    const p = await this.#verify(jwt, null);
    if (typeof p.server_uuid !== 'string' || !Array.isArray(p.permissions)) throw new TokenInvalid('missing claims');
    if (!scopeAllows(p.scope, 'websocket')) throw new TokenInvalid('wrong scope');
    return p as unknown as WebsocketClaims;
  }
}

/**
 * Seen download `unique_id`s until their token expires. Check-and-set is synchronous, so two
 * concurrent requests with one token cannot both win (Node runs this without interleaving).
 * In memory: a restart forgets them, which only reopens tokens that are at most 15 minutes old.
 */
export class OneTimeIds {
  readonly #seen = new Map<string, number>();

  /** True the first time an id is claimed, false afterwards (until `expSeconds`). */
  claim(id: string, expSeconds: number): boolean {
    this.#sweep();
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, expSeconds * 1000);
    return true;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, exp] of this.#seen) if (exp < now) this.#seen.delete(id);
  }
}
