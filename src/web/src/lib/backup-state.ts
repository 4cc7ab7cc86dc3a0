import type { BackupAttributes } from '../../../wire/client-api.ts';

export type BackupState = 'running' | 'completed' | 'failed';

/** The three states the panel encodes in is_successful + completed_at (seed 002, "Backup Status"). */
export function backupState(b: Pick<BackupAttributes, 'is_successful' | 'completed_at'>): BackupState {
  if (b.completed_at === null) return 'running';
  return b.is_successful ? 'completed' : 'failed';
}

/** The stored reason a backup failed, or null (a panel without it, upstream, sends none). */
export function failureReason(b: BackupAttributes): string | null {
  const r = b.failure_reason;
  return typeof r === 'string' && r.trim() !== '' ? r : null;
}

export type Permission = 'backup.create' | 'backup.read' | 'backup.delete' | 'backup.download' | 'backup.restore'
  | 'schedule.create' | 'schedule.read' | 'schedule.update' | 'schedule.delete';

export function can(perms: readonly string[], perm: Permission): boolean {
  return perms.includes('*') || perms.includes(perm);
}

export interface RowActions {
  download: boolean;
  restore: boolean;
  lock: boolean;
  delete: boolean;
  /** Stop a running backup (backwing; needs backup.delete like the panel's route). */
  cancel: boolean;
  /** Read a completed backup back now (backwing; needs backup.read like the panel's route). */
  verify: boolean;
  /**
   * Why a shown button would be refused right now. The button stays visible and focusable
   * (aria-disabled) and says why, instead of asking for confirmation and then failing.
   */
  blocked: { restore?: string; delete?: string };
}

export const BLOCKED = {
  restoreWhileBackup: 'A backup of this server is running; restore when it has finished.',
  deleteLocked: 'This backup is locked: unlock it first.',
} as const;

/**
 * Which buttons a row offers. Hidden when the user's permissions forbid them; shown but blocked,
 * with the reason, when the panel would refuse them now (a locked backup, a backup running).
 */
export function rowActions(
  b: Pick<BackupAttributes, 'is_successful' | 'completed_at' | 'is_locked'>,
  perms: readonly string[],
  restoring: boolean,
  backupRunning = false,
): RowActions {
  const state = backupState(b);
  const none: RowActions = { download: false, restore: false, lock: false, delete: false, cancel: false, verify: false, blocked: {} };
  if (restoring) return none;
  if (state === 'running') return { ...none, cancel: can(perms, 'backup.delete') };
  if (state === 'failed') return { ...none, delete: can(perms, 'backup.delete') };
  return {
    download: can(perms, 'backup.download'),
    restore: can(perms, 'backup.restore'),
    lock: can(perms, 'backup.delete'),
    delete: can(perms, 'backup.delete'),
    cancel: false,
    verify: can(perms, 'backup.read'),
    blocked: {
      ...(backupRunning ? { restore: BLOCKED.restoreWhileBackup } : {}),
      ...(b.is_locked ? { delete: BLOCKED.deleteLocked } : {}),
    },
  };
}

export interface LimitInfo {
  limit: number;
  count: number;
  disabled: boolean;
  reached: boolean;
}

export function limitInfo(limit: number, count: number): LimitInfo {
  return { limit, count, disabled: limit <= 0, reached: limit > 0 && count >= limit };
}
