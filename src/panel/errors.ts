/**
 * The panel's error catalogue. Codes are Pterodactyl's exception short names where a client may
 * match on them (they appear verbatim in `errors[].code`), so they are part of the API contract.
 */
import { AppError } from '../core/app-error.ts';

export const PanelErrors = {
  unauthenticated: () => new AppError('AuthenticationException', 401, 'Unauthenticated.'),
  applicationKeyOnClientRoute: () =>
    new AppError('AccessDeniedHttpException', 403, 'You are attempting to use an application API key on an endpoint that requires a client API key.'),
  clientKeyOnApplicationRoute: () =>
    new AppError('AccessDeniedHttpException', 403, 'You are attempting to use a client API key on an endpoint that requires an application API key.'),
  forbidden: () => new AppError('AccessDeniedHttpException', 403, 'This action is unauthorized.'),
  csrfMismatch: () => new AppError('CsrfTokenMismatch', 419, 'CSRF token mismatch.'),
  rateLimited: (retryAfter: number) =>
    new AppError('TooManyRequestsHttpException', 429, 'Too Many Attempts.', { headers: { 'Retry-After': String(retryAfter) } }),
  tooManyLogins: (retryAfter: number) =>
    new AppError('TooManyRequestsHttpException', 429, `Too many login attempts. Please try again in ${retryAfter} seconds.`, { headers: { 'Retry-After': String(retryAfter) } }),
  invalidCredentials: () => new AppError('InvalidCredentials', 401, 'These credentials do not match our records.'),
  resourceNotFound: () => new AppError('NotFoundHttpException', 404, 'The requested resource could not be found on the server.'),
  serverNotFound: () => new AppError('NotFoundHttpException', 404, 'The requested resource does not exist on this server.'),
  /** backwing names what was not found (upstream says only "resource"); also for servers the caller may not see. */
  serverNotFoundNamed: (key: string) =>
    new AppError('NotFoundHttpException', 404, `No server "${printable(key)}" was found for this account.`, { meta: { resource: 'server' } }),
  backupNotFoundNamed: (uuid: string) =>
    new AppError('NotFoundHttpException', 404, `No backup "${printable(uuid)}" was found on this server (it may have been deleted).`, { meta: { resource: 'backup' } }),
  resticNotConfigured: () => new AppError('ResticNotConfiguredException', 409, "This backup was made with restic, but the server's node has no restic repository configured."),
  routeNotFound: () => new AppError('NotFoundHttpException', 404, 'The requested resource could not be found on the server.'),

  serverSuspended: () => new AppError('ServerStateConflictException', 409, 'This server is currently suspended and the functionality requested is unavailable.'),
  nodeMaintenance: () => new AppError('ServerStateConflictException', 409, 'The node of this server is currently under maintenance and the functionality requested is unavailable.'),
  serverInstalling: () => new AppError('ServerStateConflictException', 409, 'This server has not yet completed its installation process, please try again later.'),
  serverRestoring: () => new AppError('ServerStateConflictException', 409, 'This server is currently restoring from a backup, please try again later.'),

  tooManyBackups: (limit: number) =>
    new AppError('TooManyBackupsException', 400, `Cannot create a new backup, this server has reached its limit of ${limit} backups.`),
  throttled: (limit: number, period: number, retryAfter: number) =>
    new AppError('TooManyRequestsHttpException', 429, `Only ${limit} backups may be generated within a ${period} second span of time.`, {
      headers: { 'Retry-After': String(retryAfter) },
    }),
  backupLocked: () => new AppError('BackupLockedException', 400, 'Cannot delete a backup that is marked as locked.'),
  serverStateNotRestorable: () =>
    new AppError('BadRequestHttpException', 400, 'This server is not currently in a state that allows for a backup to be restored.'),
  backupNotRestorable: () =>
    new AppError('BadRequestHttpException', 400, 'This backup cannot be restored at this time: not completed or failed.'),
  backupNotDownloadable: () =>
    new AppError('BadRequestHttpException', 400, 'This backup cannot be downloaded at this time: not completed or failed.'),
  unknownDisk: () =>
    new AppError('BadRequestHttpException', 400, 'The backup requested references an unknown disk driver type and cannot be downloaded.'),
  overStorageQuota: (reason: string) =>
    new AppError('BackupStorageQuotaException', 400, reason),
  backupNotVerifiable: () =>
    new AppError('BackupNotVerifiable', 409, 'This backup cannot be verified: it has not completed successfully, so there is no archive to read back.'),
  backupNotRunning: () =>
    new AppError('BackupNotRunning', 409, 'This backup is not running any more, so there is nothing to cancel.'),
  restoreNotRunning: () =>
    new AppError('RestoreNotRunning', 409, 'No restore is running on this server, so there is nothing to cancel.'),
  s3NotConfigured: () =>
    new AppError('BadRequestHttpException', 400, 'The S3 backup adapter is not configured on this panel.'),

  // Remote API (daemons).
  remoteMissingAuth: () =>
    new AppError('HttpException', 401, 'Access to this endpoint must include an Authorization header.', { headers: { 'WWW-Authenticate': 'Bearer' } }),
  remoteBadAuthFormat: () => new AppError('BadRequestHttpException', 400, 'The Authorization header provided was not in a valid format.'),
  remoteBadToken: () => new AppError('AccessDeniedHttpException', 403, 'You are not authorized to access this resource.'),
  remoteForeignBackup: () => new AppError('HttpForbiddenException', 403, 'You do not have permission to access that backup.'),
  remoteSizeRequired: () => new AppError('BadRequestHttpException', 400, 'A non-empty "size" query parameter must be provided.'),
  remoteAlreadyCompleted: () => new AppError('ConflictHttpException', 409, 'This backup is already in a completed state.'),
  remoteNotS3: () => new AppError('BadRequestHttpException', 400, 'The configured backup adapter is not an S3 compatible adapter.'),
  remoteAlreadySuccessful: () =>
    new AppError('BadRequestHttpException', 400, 'Cannot update the status of a backup that is already marked as completed.'),
  remoteNoUploadId: () => new AppError('DisplayException', 400, 'Cannot complete backup request: no upload_id present on model.'),

  // Provisioning.
  validation: (field: string, rule: string, detail: string) =>
    new AppError('ValidationException', 422, detail, { meta: { source_field: field, rule } }),
  conflict: (detail: string) => new AppError('ConflictHttpException', 409, detail),
  unexpected: () => new AppError('InternalServerError', 500, 'An unexpected error was encountered while processing this request, please try again.'),
} as const;

/** An identifier from the URL, safe to echo in a message: short, no control characters. */
function printable(s: string): string {
  return s.slice(0, 64).replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** A display name (servers, nodes): required, and at most 191 characters, the column's size. */
export function validName(raw: unknown): string {
  const name = String(raw ?? '').trim();
  if (name === '') throw PanelErrors.validation('name', 'required', 'The name field is required.');
  if (name.length > 191) throw PanelErrors.validation('name', 'max', 'The name field must not be greater than 191 characters.');
  return name;
}
