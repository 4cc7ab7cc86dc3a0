/**
 * The daemon's HTTP API (Wings-compatible), as the panel calls it. One definition serves the
 * daemon's route validation, the panel's daemon client and the OpenAPI document.
 * Field types are kept loose on purpose (plain strings): the daemon answers bad values with the
 * Wings-style error messages listed in src/daemon, which a schema-level rejection would not give.
 */
import { Type, type Static } from 'typebox';
import { NodeControlInfo, SaveHook } from './server-control.ts';

export const BACKUP_ADAPTERS = ['wings', 's3', 'restic'] as const;
export type BackupAdapterName = (typeof BACKUP_ADAPTERS)[number];

/**
 * backwing: the restic repository a `restic` job works on, sent by the panel with each job (the
 * daemon stores no repository password). Never logged by either side.
 */
export const DaemonResticRepo = Type.Object({
  repository: Type.String({ description: 'A local path on the node, or restic\'s `s3:https://host/bucket[/prefix]`' }),
  password: Type.String({ description: 'The repository password (generated and kept sealed by the panel)' }),
  s3: Type.Optional(Type.Union([Type.Null(), Type.Object({
    access_key_id: Type.String(),
    secret_access_key: Type.String(),
    region: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  })])),
});
export type DaemonResticRepo = Static<typeof DaemonResticRepo>;

/** `POST /api/servers/:server/backup` */
export const DaemonBackupRequest = Type.Object({
  adapter: Type.String({ description: '"wings" (local disk), "s3", or (backwing) "restic"' }),
  uuid: Type.String({ description: 'Backup uuid chosen by the panel (canonical lowercase)' }),
  ignore: Type.Optional(Type.String({ description: 'Newline-separated gitignore-style patterns' })),
  ignore_defaults: Type.Optional(Type.String({ description: 'backwing extension: the node\'s (and game\'s) default patterns, set by the admin; lowest precedence: the server\'s .pteroignore and `ignore` come after them' })),
  ignore_egg_defaults: Type.Optional(Type.String({ description: 'backwing extension (issue 17): the default patterns of the server\'s game type (egg), set by the admin; above `ignore_defaults`, below the server\'s .pteroignore and `ignore`' })),
  /** backwing: the server's save hook as its owner chose it; absent = the daemon's per-server default. */
  save_hook: Type.Optional(SaveHook),
  /** backwing: required with adapter "restic". */
  restic: Type.Optional(DaemonResticRepo),
});
export type DaemonBackupRequest = Static<typeof DaemonBackupRequest>;

/** `POST /api/servers/:server/backup/:backup/restore` */
export const DaemonRestoreRequest = Type.Object({
  adapter: Type.String(),
  truncate_directory: Type.Optional(Type.Boolean({ default: false })),
  download_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  paths: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 1000, description: 'backwing: restore only these files and folders (paths inside the backup), read through its index; truncate_directory is then ignored and nothing else is touched' })),
  index_url: Type.Optional(Type.String({ description: 'backwing, S3 backups with paths: presigned GET of the index object (the archive is read with Range requests on download_url)' })),
  index_put_url: Type.Optional(Type.String({ description: 'backwing, S3 backups with paths: presigned PUT where an index built from the archive is kept' })),
  keep_newer: Type.Optional(Type.Boolean({ description: 'backwing, with paths: keep a file on the server whose modification time is newer than the one in the backup (default false: overwrite)' })),
  /** backwing: required with adapter "restic". */
  restic: Type.Optional(DaemonResticRepo),
});
export type DaemonRestoreRequest = Static<typeof DaemonRestoreRequest>;

/** backwing: body of `DELETE /api/servers/:server/backup/:backup` for a restic backup (forget its snapshot). */
export const DaemonDeleteRequest = Type.Object({
  adapter: Type.Optional(Type.String()),
  restic: Type.Optional(DaemonResticRepo),
});
export type DaemonDeleteRequest = Static<typeof DaemonDeleteRequest>;

/** backwing: `POST /api/backwing/restic/maintenance` — repository upkeep the panel schedules. */
export const DaemonResticMaintenanceRequest = Type.Object({
  action: Type.Union([Type.Literal('prune'), Type.Literal('check')]),
  /** For check: restic's `--read-data-subset` (e.g. "5%" or "1/7"); default "5%". */
  read_data_subset: Type.Optional(Type.String({ pattern: '^(\\d{1,3}(\\.\\d+)?%|\\d+/\\d+|\\d+[KMGT]?)$' })),
  restic: DaemonResticRepo,
});
export type DaemonResticMaintenanceRequest = Static<typeof DaemonResticMaintenanceRequest>;

export const DaemonResticMaintenanceResult = Type.Object({
  ok: Type.Boolean(),
  /** Why it failed, a short user-safe sentence; null when ok. */
  message: Type.Union([Type.String(), Type.Null()]),
  duration_seconds: Type.Number(),
});
export type DaemonResticMaintenanceResult = Static<typeof DaemonResticMaintenanceResult>;

/** `POST /api/servers` — the panel tells the daemon a server now exists on this node. */
export const DaemonCreateServerRequest = Type.Object({
  uuid: Type.String(),
  start_on_completion: Type.Optional(Type.Boolean()),
});
export type DaemonCreateServerRequest = Static<typeof DaemonCreateServerRequest>;

/** Every daemon error body. `request_id` mirrors the X-Request-Id header. */
export const DaemonErrorBody = Type.Object({
  error: Type.String(),
  request_id: Type.Optional(Type.String()),
});
export type DaemonErrorBody = Static<typeof DaemonErrorBody>;

/** `GET /api/system` */
export const DaemonSystemInfo = Type.Object({
  version: Type.String(),
  healthy: Type.Boolean(),
  uptime_seconds: Type.Number(),
  running_backups: Type.Integer(),
  running_restores: Type.Integer(),
  /** backwing: what server control this node has (absent on Wings). */
  control: Type.Optional(NodeControlInfo),
});
export type DaemonSystemInfo = Static<typeof DaemonSystemInfo>;

/**
 * `GET /api/servers/:server/ignore-file` (backwing extension): the server's `.pteroignore`, read
 * without following a link, capped at 32 KiB. `state` says why `content` may be empty:
 * absent, present, symlink (not used), not_a_file (not used), too_large (backups are refused),
 * unreadable (the daemon may not read it).
 */
export const DaemonIgnoreFile = Type.Object({
  state: Type.Union([Type.Literal('absent'), Type.Literal('present'), Type.Literal('symlink'), Type.Literal('not_a_file'), Type.Literal('too_large'), Type.Literal('unreadable')]),
  content: Type.String(),
  size: Type.Integer({ minimum: 0 }),
});
export type DaemonIgnoreFile = Static<typeof DaemonIgnoreFile>;

/**
 * backwing extension: `GET /api/backwing/inventory` — what the daemon holds, for the panel's
 * reconciler (issue 12). An upstream Wings answers 404; the panel then relies on its prune age.
 */
export const DaemonInventoryArchive = Type.Object({
  uuid: Type.String({ description: 'Backup uuid (the file is <uuid>.tar.gz in the backup directory)' }),
  server_uuid: Type.Union([Type.String(), Type.Null()], { description: 'Owner from the sidecar; null when the sidecar is missing or unreadable' }),
  size: Type.Integer({ description: 'Bytes of the archive (0 when only a sidecar or an index is left)' }),
  index_size: Type.Optional(Type.Integer({ description: 'backwing: bytes of the backup index `<uuid>.idx` beside the archive (absent when there is none yet)' })),
  age_seconds: Type.Integer({ description: "Seconds since the archive (or a lone sidecar or index) was last written, by the daemon's clock" }),
});
export type DaemonInventoryArchive = Static<typeof DaemonInventoryArchive>;

export const DaemonInventoryJob = Type.Object({
  kind: Type.Union([Type.Literal('backup'), Type.Literal('restore')]),
  backup_uuid: Type.String(),
  server_uuid: Type.Union([Type.String(), Type.Null()]),
  /**
   * running: in progress now. finished: ended in this process's lifetime (last 15 minutes).
   * report_pending: its report waits in the outbox (e.g. the panel was down, or the daemon restarted).
   */
  state: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('report_pending')]),
  successful: Type.Optional(Type.Boolean()),
  failure_reason: Type.Optional(Type.String()),
});
export type DaemonInventoryJob = Static<typeof DaemonInventoryJob>;

export const DaemonInventory = Type.Object({
  archives: Type.Array(DaemonInventoryArchive),
  jobs: Type.Array(DaemonInventoryJob),
});
export type DaemonInventory = Static<typeof DaemonInventory>;

/** backwing: one entry of a backup's file listing (read from its index). */
export const BackupFileEntry = Type.Object({
  name: Type.String(),
  path: Type.String({ description: 'Path inside the backup, no leading or trailing slash' }),
  type: Type.Union([Type.Literal('file'), Type.Literal('dir'), Type.Literal('symlink'), Type.Literal('hardlink'), Type.Literal('other')]),
  size: Type.Integer({ minimum: 0 }),
  mode: Type.Integer({ minimum: 0 }),
  modified_at: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601; null for a folder that has no entry of its own (archives without folder entries)' }),
  link_target: Type.Optional(Type.String()),
});
export type BackupFileEntry = Static<typeof BackupFileEntry>;

/** backwing: one difference between two backups (`…/compare`), from their indexes alone. */
export const BackupFileChange = Type.Object({
  path: Type.String(),
  change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
  type: Type.Union([Type.Literal('file'), Type.Literal('dir'), Type.Literal('symlink'), Type.Literal('hardlink'), Type.Literal('other')]),
  /** Size in the newer backup (`with`); 0 when removed. */
  size: Type.Integer({ minimum: 0 }),
  /** Size in the older backup; 0 when added. */
  size_before: Type.Integer({ minimum: 0 }),
  modified_at: Type.Union([Type.String(), Type.Null()]),
});
export type BackupFileChange = Static<typeof BackupFileChange>;

/**
 * backwing: `GET /api/servers/{server}/backup/{backup}/compare?with={other}` — what changed from
 * `backup` to `other`: added, removed and changed entries (type, size or mtime differ), by path.
 */
export const BackupComparison = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('building')]),
  entries: Type.Array(BackupFileChange),
  counts: Type.Object({ added: Type.Integer(), removed: Type.Integer(), changed: Type.Integer() }),
  /** Bytes of files added minus removed, plus growth of changed ones. */
  size_delta: Type.Integer(),
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  per_page: Type.Integer({ minimum: 1 }),
});
export type BackupComparison = Static<typeof BackupComparison>;

/**
 * backwing: `GET /api/servers/{server}/backup/{backup}/files` and `.../files/search`. While the
 * index of an archive that had none is being built, the answer is 202 with `status: "building"`
 * and no entries.
 */
export const BackupFileList = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('building')]),
  path: Type.String(),
  entries: Type.Array(BackupFileEntry),
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  per_page: Type.Integer({ minimum: 1 }),
});
export type BackupFileList = Static<typeof BackupFileList>;
/**
 * backwing extension: `POST /api/servers/:server/backup/:backup/verify` — read a stored archive
 * back (local file, or an S3 object through `download_url`, a presigned GET), hash it and walk its
 * tar stream to the end. Nothing is written. Answers when done (verifications run one at a time
 * per node); a damaged archive is a 200 with `result: "damaged"` and the reason.
 */
export const DaemonVerifyRequest = Type.Object({
  adapter: Type.String({ description: '"wings" (local disk) or "s3"' }),
  download_url: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Presigned GET of the S3 object (s3 only)' })),
  size: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Bytes the backup recorded' })),
  checksum: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Hex digest the backup recorded' })),
  checksum_type: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'sha256 or sha1' })),
  read_limit: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Bytes per second to read at most (0/absent: the node\'s system.backups.verify_read_limit)' })),
  yield_to_backups: Type.Optional(Type.Boolean({ description: 'A scheduled verification: the read pauses while a backup runs on this node' })),
});
export type DaemonVerifyRequest = Static<typeof DaemonVerifyRequest>;

export const DaemonVerifyResult = Type.Object({
  result: Type.Union([Type.Literal('good'), Type.Literal('damaged')]),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'What is wrong, when damaged' }),
  size: Type.Integer({ description: 'Bytes read' }),
  checksum: Type.Union([Type.String(), Type.Null()]),
  checksum_type: Type.Union([Type.String(), Type.Null()]),
  entries: Type.Union([Type.Integer(), Type.Null()], { description: 'tar entries walked' }),
  duration_ms: Type.Integer(),
});
export type DaemonVerifyResult = Static<typeof DaemonVerifyResult>;

/**
 * backwing: `POST /api/servers/{server}/backup/{backup}/copy` — the node uploads its local archive
 * to a panel-presigned multipart upload (a copy to a second destination, docs/destinations.md).
 * Parts are `part_size` bytes each, the last one shorter; `parts[i]` is part `first_part` + i's URL.
 */
export const DaemonCopyRequest = Type.Object({
  part_size: Type.Integer({ minimum: 1 }),
  parts: Type.Array(Type.String(), { minItems: 1, maxItems: 10_000 }),
  first_part: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 10_000,
    description: 'backwing: the part number of `parts[0]` (default 1). The node uploads just these parts; the panel sends a long upload in rounds, each with freshly presigned URLs, so no URL is used after it expires.',
  })),
});
export type DaemonCopyRequest = Static<typeof DaemonCopyRequest>;

export const DaemonCopyResult = Type.Object({
  size: Type.Integer({ description: 'Bytes uploaded (the archive\'s size)' }),
  parts: Type.Array(Type.Object({ part_number: Type.Integer(), etag: Type.String() })),
});
export type DaemonCopyResult = Static<typeof DaemonCopyResult>;

/** backwing: `GET /api/servers/{server}/backup/{backup}` — is the local archive on this node, and its size. */
export const DaemonArchiveStat = Type.Object({ size: Type.Integer() });
export type DaemonArchiveStat = Static<typeof DaemonArchiveStat>;
