/**
 * What the remote API service tells the notification part when a job ends. A port so the report
 * path depends on nothing but this shape; the implementation only queues (never sends inline).
 */
import type { BackupRow, ServerRow } from '../db/schema.ts';

/** `backup.damaged`: a verification found a stored archive that can no longer be restored (issue 17). */
export type JobEventName = 'backup.completed' | 'backup.failed' | 'backup.damaged' | 'restore.completed' | 'restore.failed' | 'restic.check_failed';
export const JOB_EVENT_NAMES: readonly JobEventName[] = ['backup.completed', 'backup.failed', 'backup.damaged', 'restore.completed', 'restore.failed'];

export interface JobEvent {
  event: JobEventName;
  server: ServerRow;
  backup: BackupRow;
  /** Why a backup or restore failed (the failure reason contract's short sentence). */
  failureReason: string | null;
  occurredAt: string;
}

export interface JobNotifier {
  jobFinished(e: JobEvent): Promise<void>;
}

export const noopNotifier: JobNotifier = { jobFinished: async () => {} };
