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
  size: Type.Integer({ description: 'Bytes of the archive (0 when only a sidecar is left)' }),
  age_seconds: Type.Integer({ description: "Seconds since the archive (or sidecar) was last written, by the daemon's clock" }),
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
