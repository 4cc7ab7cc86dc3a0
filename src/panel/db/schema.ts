/**
 * The panel database as TypeScript sees it. Portable across SQLite and PostgreSQL: timestamps are
 * ISO-8601 UTC text, booleans are integers 0/1, JSON is text.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Id = Generated<number>;
/** 0 | 1 in storage. */
export type Flag = number;

export interface UsersTable {
  id: Id;
  uuid: string;
  email: string;
  username: string;
  password_hash: string;
  root_admin: Flag;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: Id;
  user_id: number;
  key_type: 'client' | 'application';
  identifier: string;
  /** sha256 hex of the secret part; the secret itself is shown once and never stored. */
  token_hash: string;
  memo: string;
  last_used_at: string | null;
  created_at: string;
}

export interface SessionsTable {
  id: Id;
  /** sha256 hex of the cookie value. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  expires_at: string;
  created_at: string;
}

export interface NodesTable {
  id: Id;
  uuid: string;
  name: string;
  /** scheme://host:port of the daemon. */
  url: string;
  daemon_token_id: string;
  daemon_token: string;
  maintenance: Flag;
  /** Ignore patterns every backup on this node gets (issue 17); null = none. */
  backup_ignore: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
  /** Where this node's backups go (destinations.id); null = the default destination. */
  destination_id: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ServersTable {
  id: Id;
  uuid: string;
  identifier: string;
  name: string;
  owner_id: number;
  node_id: number;
  status: string | null;
  backup_limit: ColumnType<number, number | undefined, number>;
  /** Storage quota in bytes beside the count limit (issue 17); null = none. */
  backup_bytes_limit: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: string;
  updated_at: string;
  /** Overrides the node's destination for this server's new backups; null = the node's. */
  destination_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** The game type (eggs.id) the server was made from (issue 17); null = none known. */
  egg_id: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A game type (Pterodactyl's egg) and the ignore patterns every backup of its servers gets. */
export interface EggsTable {
  id: number;
  nest_id: ColumnType<number, number | undefined, number>;
  name: string;
  backup_ignore: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

export interface SubusersTable {
  id: Id;
  user_id: number;
  server_id: number;
  /** JSON array of permission keys. */
  permissions: string;
  created_at: string;
  updated_at: string;
}

export interface BackupsTable {
  id: Id;
  server_id: number;
  uuid: string;
  upload_id: string | null;
  is_successful: Flag;
  is_locked: Flag;
  name: string;
  /** JSON array of patterns. */
  ignored_files: string;
  disk: string;
  checksum: string | null;
  bytes: number;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** JSON `{count, names, inconsistent?}` from the daemon's report (backwing); null = not reported. */
  changed_files: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why the backup failed (short, user-safe); null while in progress or when successful. */
  failure_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** When a deleted backup's archive was confirmed gone; null with deleted_at set = delete unfinished. */
  purged_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** Bytes of the backup index beside the archive (backwing); null = none reported. */
  index_bytes: ColumnType<number | null, number | null | undefined, number | null>;
  /** The destination the archive went to (fixed at creation); null = the default destination. */
  destination_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** The last read-back of the stored archive (issue 17); null = never verified. */
  verified_at: ColumnType<string | null, string | null | undefined, string | null>;
  verification: ColumnType<'good' | 'damaged' | null, 'good' | 'damaged' | null | undefined, 'good' | 'damaged' | null>;
  damage_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 = created by a schedule (issue 17's quota: rotated to fit instead of failed). */
  automatic: ColumnType<number, number | undefined, number>;
  /** The node's default ignore patterns this backup was made with (issue 17); null = none. */
  ignore_defaults: ColumnType<string | null, string | null | undefined, string | null>;
  /** The server's egg default ignore patterns this backup was made with (issue 17); null = none. */
  ignore_egg_defaults: ColumnType<string | null, string | null | undefined, string | null>;
  /** restic backups (backwing): the snapshot id, bytes it added, the server's repository total. */
  snapshot_id: ColumnType<string | null, string | null | undefined, string | null>;
  bytes_added: ColumnType<number | null, number | null | undefined, number | null>;
  repository_size: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A restic repository's upkeep state: prune counter and last check (node_restic, destination_restic_upkeep). */
export interface ResticUpkeepColumns {
  forgotten_since_prune: ColumnType<number, number | undefined, number>;
  last_prune_at: ColumnType<string | null, string | null | undefined, string | null>;
  last_check_at: ColumnType<string | null, string | null | undefined, string | null>;
  last_check_ok: ColumnType<number | null, number | null | undefined, number | null>;
  last_check_message: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A node's restic repository (docs/restic.md); secrets are SecretBox-sealed. */
export interface NodeResticTable extends ResticUpkeepColumns {
  id: Id;
  node_id: number;
  enabled: Flag;
  repository: string;
  password: string;
  s3_access_key_id: string | null;
  s3_secret_access_key: string | null;
  s3_region: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The upkeep of one restic destination repository (0013, docs/restic.md): per (destination, node)
 * for a path repository, per destination for an `s3:` one (repository_key says which).
 */
export interface DestinationResticUpkeepTable extends ResticUpkeepColumns {
  id: Id;
  repository_key: string;
  destination_id: number;
  node_id: number;
  created_at: string;
  updated_at: string;
}

export interface ServerSaveHooksTable {
  id: Id;
  server_id: number;
  preset: string;
  /** JSON arrays of console commands (custom preset only). */
  before_commands: string;
  after_commands: string;
  created_at: string;
  updated_at: string;
}

/** One row per node: which panel process reconciles it until when. */
export interface ReconcileLeasesTable {
  node_id: number;
  holder: string | null;
  until: string | null;
  last_run_at: string | null;
}

/** One row per node: which panel process re-verifies its backups until when (issue 17). */
export interface VerificationLeasesTable {
  node_id: number;
  holder: string | null;
  until: string | null;
}

export interface ActivityLogsTable {
  id: Id;
  batch: string | null;
  event: string;
  ip: string | null;
  description: string | null;
  actor_id: number | null;
  api_key_id: number | null;
  /** JSON object. */
  properties: string;
  timestamp: string;
}

export interface ActivityLogSubjectsTable {
  id: Id;
  activity_log_id: number;
  subject_type: string;
  subject_id: number;
}

/** What a server's backup list shows changes with its version (triggers, migration 0014); no row = 0. */
export interface BackupListVersionsTable {
  server_id: number;
  version: number;
}

/** Fixed-window counters shared by every panel process (login attempts, client API rate limit). */
export interface RateLimitsTable {
  key: string;
  /** Milliseconds since the epoch. */
  window_start: number;
  hits: number;
  /** window_start + the window, in milliseconds. */
  expires_at: number;
}

export interface DB {
  users: UsersTable;
  api_keys: ApiKeysTable;
  sessions: SessionsTable;
  nodes: NodesTable;
  servers: ServersTable;
  subusers: SubusersTable;
  backups: BackupsTable;
  reconcile_leases: ReconcileLeasesTable;
  verification_leases: VerificationLeasesTable;
  eggs: EggsTable;
  activity_logs: ActivityLogsTable;
  activity_log_subjects: ActivityLogSubjectsTable;
  server_save_hooks: ServerSaveHooksTable;
  rate_limits: RateLimitsTable;
  backup_list_versions: BackupListVersionsTable;
  node_restic: NodeResticTable;
  destination_restic_upkeep: DestinationResticUpkeepTable;
}

export type UserRow = Selectable<UsersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type SessionRow = Selectable<SessionsTable>;
export type NodeRow = Selectable<NodesTable>;
export type ServerRow = Selectable<ServersTable>;
export type EggRow = Selectable<EggsTable>;
export type SubuserRow = Selectable<SubusersTable>;
export type BackupRow = Selectable<BackupsTable>;
export type NodeResticRow = Selectable<NodeResticTable>;
export type DestinationResticUpkeepRow = Selectable<DestinationResticUpkeepTable>;
export type ActivityLogRow = Selectable<ActivityLogsTable>;
export type ServerSaveHookRow = Selectable<ServerSaveHooksTable>;
export type NewBackup = Insertable<BackupsTable>;
export type BackupUpdate = Updateable<BackupsTable>;
