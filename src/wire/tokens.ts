/**
 * JWTs the panel signs with a node's daemon token (HS256) and the daemon verifies.
 * Claims as Pterodactyl's panel issues them; the daemon accepts tokens without `scope` (Panel 1.11
 * sends none) but rejects a token whose `scope` names another purpose.
 */

/** `GET /download/backup?token=...` — valid 15 minutes, usable once (unique_id). */
export interface BackupDownloadClaims {
  server_uuid: string;
  backup_uuid: string;
  unique_id: string;
  user_uuid?: string;
  user_id?: number;
  scope?: string; // backwing sets 'backup-download'
  /**
   * backwing: the name the browser saves the archive as (`<name>-<short uuid>.tar.gz`). Wings
   * ignores it; the daemon uses it only when it passes `isSafeBackupFileName`.
   */
  file_name?: string;
  /**
   * backwing: a restic backup's repository and password, sealed for this node only
   * (src/core/restic-claim.ts). Present: the daemon streams `restic dump` through gzip.
   */
  restic?: string;
  exp: number;
  iat?: number;
  nbf?: number;
  iss?: string;
  aud?: string;
  jti?: string;
}

/**
 * backwing: `GET /download/backup/file?token=...` — one file (raw) or folder (`.tar.gz`) of a
 * local backup, read through its index. Scope must be 'backup-file'; usable once, 15 minutes.
 */
export interface BackupFileClaims extends BackupDownloadClaims {
  scope: 'backup-file';
  /** The path inside the backup. */
  path: string;
  /** S3 backups: presigned GETs of the archive (read with Range requests) and of its index object. */
  archive_url?: string;
  index_url?: string;
}

/** Websocket auth (`{"event":"auth","args":[jwt]}`). */
export interface WebsocketClaims {
  server_uuid: string;
  user_uuid: string;
  user_id?: number;
  permissions: string[];
  scope?: string; // backwing sets 'websocket'
  exp: number;
  iat?: number;
  jti?: string;
}

export const DOWNLOAD_TOKEN_TTL_SECONDS = 15 * 60;
export const WEBSOCKET_TOKEN_TTL_SECONDS = 10 * 60;
/**
 * How far the daemon's clock may trail the panel's. A token whose `exp` lies further ahead than
 * its lifetime plus this was not minted by a panel following these rules (a leaked node token,
 * a forged year-long link) and is refused.
 */
export const TOKEN_CLOCK_SKEW_SECONDS = 5 * 60;
