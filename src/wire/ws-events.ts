/**
 * Daemon websocket (`GET /api/servers/:server/ws`). Wire frames are Wings': `{"event", "args"}`,
 * `args` an array of strings; structured payloads travel as a JSON *string* in args[0], as Wings
 * does for `backup completed`.
 *
 * Flow: client sends `{"event":"auth","args":["<jwt>"]}` → daemon answers `auth success`, or
 * `jwt error` and closes. Backup events go only to sockets whose token has `backup.read`
 * (or `*`); restore events go to every authenticated socket of the server.
 */

export const WS_EVENTS = {
  auth: 'auth',
  authSuccess: 'auth success',
  jwtError: 'jwt error',
  tokenExpiring: 'token expiring',
  tokenExpired: 'token expired',
  backupProgress: 'backup progress',
  backupCompleted: 'backup completed',
  restoreProgress: 'backup restore progress',
  restoreCompleted: 'backup restore completed',
  daemonMessage: 'daemon message',
  daemonError: 'daemon error',
} as const;

export interface WsFrame {
  event: string;
  args?: string[];
}

/**
 * Where a progress event's `total_bytes` comes from: `archive` = the size of the archive a restore
 * reads (exact); `scan` = the backup's pre-scan of the tree after ignore rules (close); `previous` =
 * what the server's previous backup read (a first guess until the scan is done); `index` = the
 * sizes, in the backup index, of the files a restore of selected paths writes (exact; measured
 * against `bytes_written`, see progressDone).
 */
export type TotalSource = 'scan' | 'previous' | 'archive' | 'index';

/**
 * The figure a progress frame's `total_bytes` is measured against: the bytes written for an
 * `index` total (a restore of selected paths, whose input is re-packed), else the bytes read.
 */
export function progressDone(p: { bytes_read: number; bytes_written?: number; total_source?: TotalSource }): number {
  return p.total_source === 'index' ? (p.bytes_written ?? 0) : p.bytes_read;
}

/** args[0] of `backup progress` (backwing; upstream has no progress events). */
export interface BackupProgressPayload {
  uuid: string;
  bytes_read: number;
  bytes_written: number;
  files_done: number;
  /** Estimated uncompressed bytes to read (never below bytes_read), or null while unknown. */
  total_bytes: number | null;
  /** Present whenever total_bytes is a number. */
  total_source?: TotalSource;
}

/** args[0] of `backup completed` — the Wings payload. */
export interface BackupCompletedPayload {
  uuid: string;
  is_successful: boolean;
  checksum: string;
  checksum_type: string;
  file_size: number;
}

/** args[0] of `backup restore progress` (backwing). */
export interface RestoreProgressPayload {
  uuid: string;
  /** Compressed archive bytes consumed so far. */
  bytes_read: number;
  bytes_written: number;
  files_done: number;
  /**
   * The archive's size (`total_source: 'archive'`), or null when an S3 link did not announce it;
   * for a restore of selected paths, the sizes of the files it writes (`total_source: 'index'`,
   * compared with `bytes_written`).
   */
  total_bytes: number | null;
  total_source?: TotalSource;
}

/** args[0] of `backup restore completed` (Wings sends "", backwing sends this JSON). */
export interface RestoreCompletedPayload {
  uuid: string;
  is_successful: boolean;
  error?: string;
}

export function encodeFrame(event: string, payload?: unknown): string {
  const args = payload === undefined ? [] : [typeof payload === 'string' ? payload : JSON.stringify(payload)];
  return JSON.stringify({ event, args });
}
