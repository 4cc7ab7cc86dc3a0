/**
 * The panel's remote API (`/api/remote/...`), as daemons call it with `Bearer <token_id>.<token>`.
 * Shapes follow Pterodactyl's; fields marked "backwing" are extensions an upstream panel lacks.
 */
import { Type, type Static } from 'typebox';
import { ChangedFiles } from './server-control.ts';

export const RemoteServerSettings = Type.Object({
  uuid: Type.String(),
  suspended: Type.Boolean(),
});

/** One server as `GET /api/remote/servers[/{uuid}]` returns it. */
export const RemoteServer = Type.Object({
  uuid: Type.String(),
  settings: RemoteServerSettings,
  process_configuration: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type RemoteServer = Static<typeof RemoteServer>;

/** `GET /api/remote/servers?page=N&per_page=M` (Laravel paginator meta, as upstream). */
export const RemoteServerList = Type.Object({
  data: Type.Array(RemoteServer),
  meta: Type.Object({
    current_page: Type.Integer(),
    last_page: Type.Integer(),
    per_page: Type.Integer(),
    total: Type.Integer(),
  }),
});
export type RemoteServerList = Static<typeof RemoteServerList>;

/**
 * `GET /api/remote/backups/{uuid}?size=<bytes>` — presigned UploadPart URLs, part i (1-based) at
 * index i-1. backwing: asking again with a larger size returns URLs for the *same* multipart upload
 * (fresh signatures, more parts) and says so with `extendable: true`; an upstream panel starts a
 * new upload each time and omits the field, so a daemon must then know the final size up front.
 * backwing: a daemon that asks with `&growing=1` gets `growing_parts: true`: part n is
 * `grownPartSize(part_size, n)` (src/wire/part-sizes.ts) and `size` counts bytes under that rule,
 * so an archive of up to 5 TiB fits in 10,000 parts. Without it the part size is fixed, raised so
 * that `size` fits in 10,000 parts (Wings knows its final size when it asks).
 */
export const RemoteUploadUrls = Type.Object({
  parts: Type.Array(Type.String()),
  part_size: Type.Integer(),
  extendable: Type.Optional(Type.Boolean()),
  growing_parts: Type.Optional(Type.Boolean()),
});
export type RemoteUploadUrls = Static<typeof RemoteUploadUrls>;

export const RemoteUploadedPart = Type.Object({
  etag: Type.String(),
  part_number: Type.Integer({ minimum: 1 }),
});
export type RemoteUploadedPart = Static<typeof RemoteUploadedPart>;

/** `POST /api/remote/backups/{uuid}` — the result of a backup. */
export const RemoteBackupStatus = Type.Object({
  successful: Type.Boolean(),
  checksum: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  checksum_type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  size: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  parts: Type.Optional(Type.Union([Type.Array(RemoteUploadedPart), Type.Null()])),
  /** backwing: files that changed while they were read (an upstream panel ignores the field). */
  changed_files: Type.Optional(ChangedFiles),
  index_size: Type.Optional(Type.Integer({ minimum: 0, description: 'backwing: bytes of the backup index written beside the archive (`<uuid>.idx` locally, `<server>/<uuid>.idx` in S3); absent when none was written (the first browse then builds one).' })),
  failure_reason: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'backwing: why the backup failed, a short user-safe sentence (the panel keeps the first 500 characters). Upstream panels ignore it (Laravel keeps validated fields only).' })),
  verified: Type.Optional(Type.Boolean({ description: 'backwing (issue 17): the daemon read the stored archive back (checksum recomputed, tar stream walked to the end) before reporting it successful. Local backups only; the panel checks S3 objects itself.' })),
  /** backwing (restic adapter): the snapshot's id in the repository. */
  snapshot_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** backwing (restic adapter): bytes this snapshot added to the repository (after dedup and compression). */
  bytes_added: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  /** backwing (restic adapter): bytes the repository holds for all of this server's snapshots. */
  repository_size: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});
export type RemoteBackupStatus = Static<typeof RemoteBackupStatus>;

/**
 * backwing: `GET /api/remote/backups/{uuid}/index` — a presigned PutObject URL for the backup's
 * index object (`<server>/<uuid>.idx`, beside the archive's key), for S3 backups still running.
 */
export const RemoteIndexUploadUrl = Type.Object({ url: Type.String() });
export type RemoteIndexUploadUrl = Static<typeof RemoteIndexUploadUrl>;

/** `POST /api/remote/backups/{uuid}/restore` — the result of a restore. */
export const RemoteRestoreStatus = Type.Object({
  successful: Type.Boolean(),
  failure_reason: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'backwing: why the restore failed. Upstream panels read `successful` only.' })),
});
export type RemoteRestoreStatus = Static<typeof RemoteRestoreStatus>;

/**
 * backwing: the status the panel answers `GET /api/remote/backups/{uuid}` with when S3 itself
 * refused the request in a way a retry cannot fix (403 credentials/SignatureDoesNotMatch/
 * AccessDenied, 404 NoSuchBucket): 424 Failed Dependency, a 4xx, so a daemon's retry loop
 * (which retries 5xx and network errors only) gives up at once. The error's `detail` is a short
 * user-safe reason the daemon passes on as `failure_reason`. S3 failures that may pass (5xx,
 * throttling, unreachable) stay 502/503.
 */
export const REMOTE_S3_REFUSED_STATUS = 424;
export const REMOTE_S3_REFUSED_CODE = 'S3RefusedException';

/** Panel error bodies everywhere (client and remote API). */
export const PanelErrorItem = Type.Object({
  code: Type.String(),
  status: Type.String(),
  detail: Type.String(),
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export const PanelErrorBody = Type.Object({ errors: Type.Array(PanelErrorItem) });
export type PanelErrorBody = Static<typeof PanelErrorBody>;
