/**
 * Tables added by migration 0007 (destinations). Kept apart from schema.ts like the notification
 * tables; the destinations repository extends the core DB type with `withTables<…>()`.
 */
import type { Generated, Selectable } from 'kysely';

export type DestinationKind = 'local' | 's3';
export type CopyStatus = 'pending' | 'copying' | 'done' | 'failed';

export interface DestinationsTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  kind: DestinationKind;
  endpoint: string | null;
  region: string | null;
  bucket: string | null;
  prefix: string;
  access_key_id: string | null;
  /** Sealed (bw1:…) with the panel's APP_KEY. */
  secret_access_key: string | null;
  path_style: number;
  storage_class: string | null;
  part_size: number | null;
  is_default: number;
  copy_to_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface BackupCopiesTable {
  id: Generated<number>;
  backup_id: number;
  destination_id: number;
  status: CopyStatus;
  checksum: string | null;
  error: string | null;
  attempts: number;
  claimed_until: string | null;
  created_at: string;
  updated_at: string;
}

export type DestinationTables = {
  destinations: DestinationsTable;
  backup_copies: BackupCopiesTable;
};

export type DestinationRow = Selectable<DestinationsTable>;
export type BackupCopyRow = Selectable<BackupCopiesTable>;
