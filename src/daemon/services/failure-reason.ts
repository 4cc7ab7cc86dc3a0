/**
 * Why a job failed, as one short sentence a user may read (issue 12): no paths, no stack, no
 * secrets. The daemon sends it as `failure_reason` with its reports; the panel stores and shows it.
 */
import { AppError } from '../../core/app-error.ts';
import { REMOTE_S3_REFUSED_STATUS } from '../../wire/remote-api.ts';
import { ControlError } from '../control/types.ts';

export const FailureReasons = {
  cancelled: 'cancelled',
  shutDown: 'interrupted: the daemon was shut down',
  restarted: 'interrupted: the daemon was restarted',
  panelForgot: 'cancelled: the panel no longer has this backup',
  diskFull: 'disk full',
  quota: 'disk quota exceeded',
  permission: "permission denied while reading or writing the server's files",
  corrupt: 'the archive is damaged or is not a backup',
  truncated: 'the archive ended early (incomplete download or file)',
  panelUnreachable: 'the panel could not be reached',
  unexpected: 'unexpected error (details are in the daemon log)',
} as const;

/** The abort reason a job's controller is given: says why in words the report can carry. */
export class JobCancelled extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JobCancelled';
  }
}

function errnoOf(err: unknown): string | undefined {
  for (let c: unknown = err, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && !code.startsWith('E_')) return code;
  }
  return undefined;
}

function appErrorIn(err: unknown, code: string): AppError | undefined {
  for (let c: unknown = err, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof AppError && c.code === code) return c;
  }
  return undefined;
}

/** The sentence for a failed job; `signal` is the job's own, whose reason wins when it fired. */
export function failureReasonOf(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) {
    return signal.reason instanceof JobCancelled ? signal.reason.reason : FailureReasons.cancelled;
  }
  const panel = appErrorIn(err, 'E_PANEL');
  if (panel) {
    const status = panel.meta?.status;
    if (status === REMOTE_S3_REFUSED_STATUS && typeof panel.meta?.detail === 'string') return panel.meta.detail;
    if (status === 404) return FailureReasons.panelForgot;
    if (status === null || status === undefined) return FailureReasons.panelUnreachable;
    return `the panel refused the request (HTTP ${String(status)})`;
  }
  const part = appErrorIn(err, 'E_S3_PART');
  if (part) {
    const status = part.meta?.status;
    if (status === 404) return 'S3 no longer has the upload (it was aborted)';
    if (status === 403) return 'S3 refused the upload (HTTP 403: the signed link expired or was revoked)';
    return typeof status === 'number' ? `uploading to S3 failed (HTTP ${status})` : 'uploading to S3 failed (network error)';
  }
  switch (errnoOf(err)) {
    case 'ENOSPC': return FailureReasons.diskFull;
    case 'EDQUOT': return FailureReasons.quota;
    case 'EACCES':
    case 'EPERM': return FailureReasons.permission;
    default: break;
  }
  if (err instanceof Error && err.name === 'VerificationFailed') return err.message;
  // restic words its failures for users already (src/daemon/restic/restic-cli.ts), as does the
  // translation of ignore rules restic cannot express.
  const restic = appErrorIn(err, 'E_RESTIC') ?? appErrorIn(err, 'E_IGNORE_RESTIC');
  if (restic) return restic.message;
  if (appErrorIn(err, 'E_ARCHIVE_CORRUPT')) return FailureReasons.corrupt;
  if (appErrorIn(err, 'E_ARCHIVE_TRUNCATED')) return FailureReasons.truncated;
  if (appErrorIn(err, 'E_ARCHIVE_ROOT')) return "the server's directory is missing";
  if (appErrorIn(err, 'E_ARCHIVE_UNSAFE')) return 'the archive tried to write outside the server directory';
  if (appErrorIn(err, 'E_RESTORE_SOURCE')) return 'the backup link did not serve an archive';
  // Server control (save hooks, stop before a restore) words its own failures for users.
  if (err instanceof ControlError) return err.message;
  return FailureReasons.unexpected;
}
