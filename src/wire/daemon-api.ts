/**
 * The daemon's HTTP API (Wings-compatible), as the panel calls it. One definition serves the
 * daemon's route validation, the panel's daemon client and the OpenAPI document.
 * Field types are kept loose on purpose (plain strings): the daemon answers bad values with the
 * Wings-style error messages listed in src/daemon, which a schema-level rejection would not give.
 */
import { Type, type Static } from 'typebox';
import { NodeControlInfo, SaveHook } from './server-control.ts';

export const BACKUP_ADAPTERS = ['wings', 's3'] as const;
export type BackupAdapterName = (typeof BACKUP_ADAPTERS)[number];

/** `POST /api/servers/:server/backup` */
export const DaemonBackupRequest = Type.Object({
  adapter: Type.String({ description: '"wings" (local disk) or "s3"' }),
  uuid: Type.String({ description: 'Backup uuid chosen by the panel (canonical lowercase)' }),
  ignore: Type.Optional(Type.String({ description: 'Newline-separated gitignore-style patterns' })),
  ignore_defaults: Type.Optional(Type.String({ description: 'backwing extension: the node\'s (and game\'s) default patterns, set by the admin; lowest precedence: the server\'s .pteroignore and `ignore` come after them' })),
  /** backwing: the server's save hook as its owner chose it; absent = the daemon's per-server default. */
  save_hook: Type.Optional(SaveHook),
});
export type DaemonBackupRequest = Static<typeof DaemonBackupRequest>;

/** `POST /api/servers/:server/backup/:backup/restore` */
export const DaemonRestoreRequest = Type.Object({
  adapter: Type.String(),
  truncate_directory: Type.Optional(Type.Boolean({ default: false })),
  download_url: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type DaemonRestoreRequest = Static<typeof DaemonRestoreRequest>;

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
