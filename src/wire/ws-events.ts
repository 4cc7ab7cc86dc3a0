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

/** args[0] of `backup progress` (backwing; upstream has no progress events). */
export interface BackupProgressPayload {
  uuid: string;
  bytes_read: number;
  bytes_written: number;
  files_done: number;
  /** Estimated uncompressed bytes to read, or null while unknown. */
  total_bytes: number | null;
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
  bytes_read: number;
  bytes_written: number;
  files_done: number;
  total_bytes: number | null;
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
