/**
 * Every migration, in order. Append-only: a released migration is never edited; add a new file
 * (`NNNN_name.ts`) and list it here.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_schedules.ts';
import * as m0003 from './0003_server_control.ts';
import * as m0004 from './0004_reconciliation.ts';
import * as m0005 from './0005_notifications.ts';
import * as m0009 from './0009_restic.ts';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_schedules': m0002,
  '0003_server_control': m0003,
  '0004_reconciliation': m0004,
  '0005_notifications': m0005,
  '0009_restic': m0009,
};
