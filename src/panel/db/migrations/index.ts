/**
 * Every migration, in order. Append-only: a released migration is never edited; add a new file
 * (`NNNN_name.ts`) and list it here.
 */
import type { Migration } from 'kysely';
import type { SecretBox } from '../../../core/secret-box.ts';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_schedules.ts';
import * as m0003 from './0003_server_control.ts';
import * as m0004 from './0004_reconciliation.ts';
import * as m0005 from './0005_notifications.ts';
import * as m0006 from './0006_backup_index.ts';
import * as m0007 from './0007_destinations.ts';
import { sharedLimits } from './0008_shared_limits.ts';
import * as m0009 from './0009_restic.ts';
import * as m0010 from './0010_verification.ts';
import * as m0011 from './0011_verification_leases_eggs.ts';
import * as m0012 from './0012_restic_destinations.ts';
import * as m0013 from './0013_restic_destination_upkeep.ts';
import * as m0014 from './0014_backup_list_versions.ts';
import * as m0015 from './0015_change_notifications.ts';

/** `secrets` seals what earlier versions stored in clear (0008). */
export function panelMigrations(secrets: SecretBox): Record<string, Migration> {
  return {
    '0001_initial': m0001,
    '0002_schedules': m0002,
    '0003_server_control': m0003,
    '0004_reconciliation': m0004,
    '0005_notifications': m0005,
    '0006_backup_index': m0006,
    '0007_destinations': m0007,
    '0008_shared_limits': sharedLimits(secrets),
    '0009_restic': m0009,
    '0010_verification': m0010,
    '0011_verification_leases_eggs': m0011,
    '0012_restic_destinations': m0012,
    '0013_restic_destination_upkeep': m0013,
    '0014_backup_list_versions': m0014,
    '0015_change_notifications': m0015,
  };
}
