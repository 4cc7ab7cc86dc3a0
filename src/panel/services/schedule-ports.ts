/**
 * What the schedule services need from the rest of the panel, as narrow interfaces. The wiring in
 * schedule-context.ts adapts the panel core's services to these, so the scheduler never depends on
 * their full surface (and tests can see exactly what an automatic run may do).
 */
import type { BackupRow, ServerRow } from '../db/schema.ts';
import type { Executor } from '../db/database.ts';
import type { Logger } from '../../core/logger.ts';
import type { Actor } from './deps.ts';
import type { Clock, Sleep } from '../scheduler/clock.ts';

export interface AutomaticBackupPort {
  /** A backup with no actor (default name, unlocked); throttle and limit rules apply as usual. */
  create(server: ServerRow, ignored: string[]): Promise<BackupRow>;
  /** The normal delete path (daemon or S3, then soft delete); must refuse a locked successful backup. */
  delete(server: ServerRow, backup: BackupRow): Promise<void>;
}

export interface AutomaticActivity {
  /** An entry with no actor (the scheduler acted), or the user who pressed "run now". */
  log(event: string, properties: Record<string, unknown>, subjects: Array<{ type: string; id: number }>, actor?: Actor | null): Promise<void>;
}

export interface ScheduleDeps {
  db: Executor;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
  backups: AutomaticBackupPort;
  activity: AutomaticActivity;
  /** A claimed run older than this is considered abandoned (its panel process died). */
  staleRunMs: number;
  /** Aborted when the panel shuts down: a run waiting on a time_offset stops instead of blocking exit. */
  signal?: AbortSignal;
}
