import type { BackupAttributes } from '../../../wire/client-api.ts';

export type BackupState = 'running' | 'completed' | 'failed';

/** The three states the panel encodes in is_successful + completed_at (seed 002, "Backup Status"). */
export function backupState(b: Pick<BackupAttributes, 'is_successful' | 'completed_at'>): BackupState {
  if (b.completed_at === null) return 'running';
  return b.is_successful ? 'completed' : 'failed';
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
}

/**
 * Which buttons a row offers. Hidden, not disabled, when the user's permissions forbid them;
 * a locked backup keeps its Delete so the user reads the panel's own refusal.
 */
export function rowActions(b: Pick<BackupAttributes, 'is_successful' | 'completed_at'>, perms: readonly string[], restoring: boolean): RowActions {
  const state = backupState(b);
  const none = { download: false, restore: false, lock: false, delete: false };
  if (restoring || state === 'running') return none;
  if (state === 'failed') return { ...none, delete: can(perms, 'backup.delete') };
  return {
    download: can(perms, 'backup.download'),
    restore: can(perms, 'backup.restore'),
    lock: can(perms, 'backup.delete'),
    delete: can(perms, 'backup.delete'),
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
