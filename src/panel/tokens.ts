/**
 * JWTs the panel hands to users for the daemon: a backup download link and websocket credentials.
 * Both are HS256-signed with the node's daemon token, which is the only secret the daemon shares
 * with the panel, so the daemon can verify them without calling back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { DOWNLOAD_TOKEN_TTL_SECONDS, WEBSOCKET_TOKEN_TTL_SECONDS } from '../wire/tokens.ts';
import type { NodeConnection } from './daemon-client/daemon-client.ts';

/** Upstream lets a download token start 5 minutes early to absorb clock skew between hosts. */
const NOT_BEFORE_SKEW_SECONDS = 5 * 60;
const UNIQUE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 16 random alphanumerics; the daemon remembers them to make each download link single-use. */
export function randomUniqueId(length = 16): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // 248 = 4 × 62: rejecting bytes above it keeps every character equally likely.
  for (const b of bytes) {
    if (b >= 248) continue;
    out += UNIQUE_ID_ALPHABET[b % 62];
    if (out.length === length) return out;
  }
  return out + randomUniqueId(length - out.length);
}

function nodeKey(node: NodeConnection): Uint8Array {
  return new TextEncoder().encode(node.token);
}

/** The audience is the daemon's base URL without a trailing slash, as upstream builds it. */
export function nodeAudience(node: NodeConnection): string {
  return node.url.replace(/\/+$/, '');
}

export async function signDownloadToken(
  node: NodeConnection,
  c: { serverUuid: string; backupUuid: string; userUuid?: string; userId?: number; panelUrl: string; fileName?: string; path?: string; archiveUrl?: string; indexUrl?: string; restic?: string },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    server_uuid: c.serverUuid,
    backup_uuid: c.backupUuid,
    unique_id: randomUniqueId(),
    // backwing: a link to one path of the backup (`/download/backup/file`), never the whole archive.
    scope: c.path !== undefined ? 'backup-file' : 'backup-download',
  };
  if (c.path !== undefined) claims.path = c.path;
  if (c.archiveUrl !== undefined) claims.archive_url = c.archiveUrl;
  if (c.indexUrl !== undefined) claims.index_url = c.indexUrl;
  if (c.userUuid !== undefined) claims.user_uuid = c.userUuid;
  if (c.userId !== undefined) claims.user_id = c.userId;
  if (c.fileName !== undefined) claims.file_name = c.fileName;
  if (c.restic !== undefined) claims.restic = c.restic;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(c.panelUrl.replace(/\/+$/, ''))
    .setAudience(nodeAudience(node))
    .setIssuedAt(now)
    .setNotBefore(now - NOT_BEFORE_SKEW_SECONDS)
    .setExpirationTime(now + DOWNLOAD_TOKEN_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(nodeKey(node));
}

export async function signWebsocketToken(
  node: NodeConnection,
  c: { serverUuid: string; userUuid: string; userId?: number; permissions: string[] },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    server_uuid: c.serverUuid,
    user_uuid: c.userUuid,
    permissions: [...c.permissions],
    scope: 'websocket',
  };
  if (c.userId !== undefined) claims.user_id = c.userId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + WEBSOCKET_TOKEN_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(nodeKey(node));
}
