/**
 * The daemon's error catalogue. Codes are stable; messages for the Wings-visible cases are Wings'
 * own wording so panels and clients written against Wings see the text they expect.
 */
import { AppError } from '../core/app-error.ts';

export const DaemonMessages = {
  missingAuth: 'The required authorization heads were not present in the request.',
  forbidden: 'You are not authorized to access this endpoint.',
  serverNotFound: 'The requested resource does not exist on this instance.',
  badUuid: 'The backup identifier must be a valid UUID.',
  badAdapter: 'The provided backup adapter is not valid.',
  backupNotFound: 'The requested backup was not found on this server.',
  resourceNotFound: 'The requested resource was not found on this server.',
  unparsable: 'The data passed in the request was not in a parsable format. Please try again.',
  generic: 'An unexpected error was encountered while processing this request',
  downloadUrlRequired: 'The download_url field is required when the backup adapter is set to S3.',
  badDownloadUrl: 'The provided backup link is not a valid URL.',
  downloadUrlScheme: 'The provided backup link must use HTTP or HTTPS.',
  blockedAddress: 'The provided backup link resolves to a blocked address.',
  tooManyRedirects: 'The provided backup link redirects too many times.',
  backupExists: 'A backup with that identifier already exists or is running.',
  restoring: 'This server is currently restoring a backup.',
  backupRunning: 'A backup of this server is running; wait for it to finish before restoring.',
  rangeNotSatisfiable: 'The requested range cannot be satisfied.',
} as const;

export const daemonErrors = {
  config: (message: string) => new AppError('E_CONFIG', 500, message),
  missingAuth: () => new AppError('E_AUTH_MISSING', 401, DaemonMessages.missingAuth, { headers: { 'WWW-Authenticate': 'Bearer' } }),
  forbidden: () => new AppError('E_AUTH_FORBIDDEN', 403, DaemonMessages.forbidden),
  serverNotFound: () => new AppError('E_SERVER_NOT_FOUND', 404, DaemonMessages.serverNotFound),
  badUuid: () => new AppError('E_BAD_UUID', 400, DaemonMessages.badUuid),
  badAdapter: () => new AppError('E_BAD_ADAPTER', 400, DaemonMessages.badAdapter),
  badRequest: (message: string) => new AppError('E_BAD_REQUEST', 400, message),
  badIgnore: (message: string) => new AppError('E_BAD_IGNORE', 400, message),
  backupNotFound: () => new AppError('E_BACKUP_NOT_FOUND', 404, DaemonMessages.backupNotFound),
  resourceNotFound: () => new AppError('E_RESOURCE_NOT_FOUND', 404, DaemonMessages.resourceNotFound),
  backupExists: () => new AppError('E_BACKUP_EXISTS', 409, DaemonMessages.backupExists),
  restoring: () => new AppError('E_SERVER_RESTORING', 409, DaemonMessages.restoring),
  backupRunning: () => new AppError('E_BACKUP_RUNNING', 409, DaemonMessages.backupRunning),
  downloadSource: (message: string, cause?: unknown) => new AppError('E_RESTORE_SOURCE', 400, message, { cause }),
  rangeNotSatisfiable: (size: number) =>
    new AppError('E_RANGE', 416, DaemonMessages.rangeNotSatisfiable, { headers: { 'Content-Range': `bytes */${size}` } }),
  /** `detail` is the panel's own error detail, kept for the failure reason of a 424 (src/wire REMOTE_S3_REFUSED_STATUS). */
  panel: (message: string, status: number | null, cause?: unknown, detail?: string) =>
    new AppError('E_PANEL', 502, message, { cause, retryable: status === null || status >= 500, meta: { status, ...(detail ? { detail } : {}) } }),
} as const;
