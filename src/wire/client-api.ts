/**
 * The panel's client API (`/api/client/...`), Pterodactyl-shaped. Clients written for
 * Pterodactyl (nodeactyl, jspteroapi, the upstream UI) read exactly these fields.
 */
import { BackupComparison, BackupFileEntry } from './daemon-api.ts';
import { Type, type Static } from 'typebox';
import { ChangedFiles } from './server-control.ts';

export const BACKUP_PERMISSIONS = ['backup.create', 'backup.read', 'backup.delete', 'backup.download', 'backup.restore'] as const;
export type BackupPermission = (typeof BACKUP_PERMISSIONS)[number];

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const BackupAttributes = Type.Object({
  uuid: Type.String(),
  name: Type.String(),
  ignored_files: Type.Array(Type.String()),
  is_successful: Type.Boolean(),
  is_locked: Type.Boolean(),
  /** "<type>:<hex>", e.g. "sha256:ab12…", or null while not completed / failed. */
  checksum: Nullable(Type.String()),
  checksum_type: Nullable(Type.String()),
  /** The bare sha256 hex when checksum_type is sha256 (seed 004), else null. */
  sha256_hash: Nullable(Type.String()),
  bytes: Type.Integer(),
  created_at: Type.String(),
  completed_at: Nullable(Type.String()),
  /** backwing: files that changed while the backup read them; null = not reported (Wings, failed, running). */
  changed_files: Type.Optional(Nullable(ChangedFiles)),
  /** backwing: why a failed backup failed (short, user-safe); null otherwise. Upstream clients ignore it. */
  failure_reason: Nullable(Type.String()),
  /** backwing: whether the daemon wrote a backup index beside the archive (browsing is fast then; without, the first browse builds one). */
  has_index: Type.Optional(Type.Boolean()),
  /** backwing: the name of the destination holding the archive (docs/destinations.md). */
  destination: Type.Optional(Nullable(Type.String())),
  /** backwing: verified copies at other destinations (3-2-1); the UI shows "2 copies" for 1. */
  copies: Type.Optional(Type.Integer()),
  /** backwing (issue 17): when the stored archive was last read back; null = never verified. */
  verified_at: Type.Optional(Nullable(Type.String())),
  /** backwing: the last verification's result; 'damaged' keeps the row and lock until a person deletes it. */
  verification: Type.Optional(Nullable(Type.Union([Type.Literal('good'), Type.Literal('damaged')]))),
  /** backwing: what the last verification found wrong (short, user-safe); null unless damaged. */
  damage_reason: Type.Optional(Nullable(Type.String())),
  /** backwing (issue 17): the node's default ignore patterns this backup was made with (below .pteroignore and `ignored_files`). */
  ignore_defaults: Type.Optional(Type.Array(Type.String())),
  /** backwing (issue 17): the default ignore patterns of the server's game type (egg) this backup was made with (above the node's, below .pteroignore). */
  ignore_egg_defaults: Type.Optional(Type.Array(Type.String())),
  /** backwing (restic backups): bytes this snapshot added to the repository after dedup; null for tar.gz backups. */
  bytes_added: Type.Optional(Nullable(Type.Integer({ description: 'backwing extension: bytes this restic snapshot added to the repository (deduplicated, compressed); null for tar.gz backups' }))),
  /** backwing (restic backups): the repository's total for this server when the snapshot was taken. */
  repository_size: Type.Optional(Nullable(Type.Integer({ description: "backwing extension: bytes the restic repository holds for all of this server's snapshots, as of this backup; null for tar.gz backups" }))),
});
export type BackupAttributes = Static<typeof BackupAttributes>;

export const BackupObject = Type.Object({
  object: Type.Literal('backup'),
  attributes: BackupAttributes,
});
export type BackupObject = Static<typeof BackupObject>;

export const Pagination = Type.Object({
  total: Type.Integer(),
  count: Type.Integer(),
  per_page: Type.Integer(),
  current_page: Type.Integer(),
  total_pages: Type.Integer(),
  links: Type.Object({ previous: Type.Optional(Type.String()), next: Type.Optional(Type.String()) }),
});

export const BackupList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(BackupObject),
  meta: Type.Object({
    /** Non-failed backups (in progress + successful): what counts against the limit. */
    backup_count: Type.Integer(),
    /** backwing (issue 17): bytes the server's successful backups take, what counts against `feature_limits.backup_bytes`. */
    backup_bytes: Type.Optional(Type.Integer()),
    pagination: Pagination,
  }),
});
export type BackupList = Static<typeof BackupList>;

export const CreateBackupBody = Type.Object({
  name: Type.Optional(Nullable(Type.String())),
  is_locked: Type.Optional(Nullable(Type.Union([Type.Boolean(), Type.String(), Type.Integer()]))),
  ignored: Type.Optional(Nullable(Type.String())),
});
export type CreateBackupBody = Static<typeof CreateBackupBody>;

export const RestoreBackupBody = Type.Object({
  truncate: Type.Boolean(),
  /** backwing: restore only these paths of the backup (local backups); truncate is then ignored. */
  paths: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 1000 })),
  /** backwing, with paths: keep files on the server that are newer than the backup's copy. */
  keep_newer: Type.Optional(Type.Boolean()),
});

export const SignedUrl = Type.Object({
  object: Type.Literal('signed_url'),
  attributes: Type.Object({ url: Type.String() }),
});
export type SignedUrl = Static<typeof SignedUrl>;

/** `GET /api/client/servers/{server}/websocket` */
export const WebsocketCredentials = Type.Object({
  data: Type.Object({ token: Type.String(), socket: Type.String() }),
});
export type WebsocketCredentials = Static<typeof WebsocketCredentials>;

export const FeatureLimits = Type.Object({
  databases: Type.Integer(),
  allocations: Type.Integer(),
  backups: Type.Integer(),
  /** backwing (issue 17): storage quota in bytes for the server's backups; null = none. */
  backup_bytes: Type.Optional(Nullable(Type.Integer())),
});

/** `GET /api/client/servers/{server}` attributes (the subset backwing manages). */
export const ServerAttributes = Type.Object({
  server_owner: Type.Boolean(),
  identifier: Type.String(),
  uuid: Type.String(),
  name: Type.String(),
  node: Type.String(),
  status: Nullable(Type.String()),
  is_suspended: Type.Boolean(),
  is_installing: Type.Boolean(),
  is_transferring: Type.Boolean(),
  feature_limits: FeatureLimits,
});
export type ServerAttributes = Static<typeof ServerAttributes>;

/** `GET /api/client/servers/{server}` — upstream puts the caller's permissions in `meta`. */
export const ServerObject = Type.Object({
  object: Type.Literal('server'),
  attributes: ServerAttributes,
  meta: Type.Optional(Type.Object({
    is_server_owner: Type.Boolean(),
    /** "*" for owners and root admins, else the subuser's permission keys. */
    user_permissions: Type.Array(Type.String()),
  })),
});
export type ServerObject = Static<typeof ServerObject>;

/** Server statuses as Pterodactyl stores them (null = normal). */
export const SERVER_STATUSES = ['installing', 'install_failed', 'reinstall_failed', 'suspended', 'restoring_backup'] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number] | null;

/** Activity event names (colon form everywhere; upstream's `server.backup.restore-failed` typo is fixed). */
export const BACKUP_ACTIVITY_EVENTS = [
  'server:backup.start',
  'server:backup.lock',
  'server:backup.unlock',
  'server:backup.download',
  'server:backup.restore',
  'server:backup.restore-complete',
  'server:backup.restore-failed',
  'server:backup.delete',
  'server:backup.complete',
  'server:backup.fail',
  'server:backup.verify',
  'server:backup.damaged',
] as const;

/** backwing: `GET /api/client/servers/{server}/backups/{backup}/compare?with={other}`. */
export const BackupComparisonObject = Type.Object({
  object: Type.Literal('backup_comparison'),
  attributes: BackupComparison,
});
export type BackupComparisonObject = Static<typeof BackupComparisonObject>;

/** backwing: one entry of a backup's file listing (`GET .../backups/{backup}/files`). */
export const BackupFileObject = Type.Object({
  object: Type.Literal('backup_file'),
  attributes: BackupFileEntry,
});

/**
 * backwing: `GET /api/client/servers/{server}/backups/{backup}/files[/search]`. `meta.status` is
 * "building" (HTTP 202, no entries) while the index of an archive that had none is being built.
 */
export const BackupFileListResponse = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(BackupFileObject),
  meta: Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('building')]),
    path: Type.String(),
    pagination: Pagination,
  }),
});
export type BackupFileListResponse = Static<typeof BackupFileListResponse>;
