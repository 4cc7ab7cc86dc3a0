/**
 * The panel's side of S3 backups: it never moves archive bytes itself, it hands daemons presigned
 * UploadPart URLs, finishes or aborts the multipart upload when the daemon reports, and presigns
 * GETs for downloads and restores.
 */
import {
  S3Client,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListPartsCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  CopyObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, errorMessage } from '../../core/app-error.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { Readable } from 'node:stream';
import { REMOTE_S3_REFUSED_CODE, REMOTE_S3_REFUSED_STATUS } from '../../wire/remote-api.ts';
import { fixedPartSizeFor, partsForSize, S3_MAX_OBJECT_SIZE, S3_MAX_PARTS } from '../../wire/part-sizes.ts';

export interface PanelS3Config {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  maxPartSize: number;
  presignedUrlLifespanMinutes: number;
  storageClass?: string;
  /** Prepended to every object key (a destination's `prefix`, e.g. "eu/"); empty = none. */
  prefix?: string;
}

export interface S3BackupStore {
  objectKey(serverUuid: string, backupUuid: string): string;
  /** New multipart upload (ContentType application/x-gzip, StorageClass if set), or with existingUploadId:
   *  fresh presigned UploadPart URLs for the SAME upload. parts.length = max(1, ceil(size / partSize)),
   *  or with `range` the URLs of parts first … first + count - 1 only (clipped to the upload's parts). */
  presignUpload(key: string, existingUploadId: string | null, size: number, opts?: { growing?: boolean; range?: { first: number; count: number } }): Promise<{ uploadId: string; partSize: number; parts: string[] }>;
  /** How long a presigned UploadPart URL stays valid (the destination's lifespan). */
  readonly uploadUrlTtlSeconds: number;
  completeUpload(key: string, uploadId: string, parts: Array<{ etag: string; part_number: number }> | null): Promise<void>;
  abortUpload(key: string, uploadId: string): Promise<void>;
  deleteObject(key: string): Promise<void>;
  presignedGetUrl(key: string, ttlSeconds: number, downloadName?: string): Promise<string>;
  /** backwing: the backup index object beside the archive (`<server>/<uuid>.idx`). */
  indexKey(serverUuid: string, backupUuid: string): string;
  presignedPutUrl(key: string, ttlSeconds: number): Promise<string>;
  /**
   * Lists, writes and deletes a probe object with no retries, so a refusal comes back at once as a
   * 424 naming S3's own code (SignatureDoesNotMatch, InvalidAccessKeyId, NoSuchBucket, …).
   */
  probe(): Promise<void>;
  /** Where this store writes: two stores of one provider (endpoint, region, key id) can copy server-side. */
  readonly location: { endpoint: string; region: string; accessKeyId: string; bucket: string };
  /** HEAD without retries, bounded in time: is the archive there and reachable right now? */
  head(key: string, timeoutMs?: number): Promise<{ size: number }>;
  read(key: string): Promise<Readable>;
  /** One PUT of a stream of known size (S3 allows up to 5 GiB in one PUT). */
  put(key: string, body: Readable, size: number): Promise<void>;
  /** Server-side copy from another bucket of the same provider (CopyObject, up to 5 GiB). */
  copyFrom(sourceBucket: string, sourceKey: string, key: string): Promise<void>;
  /** Bytes [start, end] (inclusive) of an object, as a stream. */
  readRange(key: string, start: number, end: number): Promise<Readable>;
  /**
   * A copy of any size S3 accepts, in parts of `partSize` bytes (the last one shorter): each part
   * is a byte range of the source, copied server-side (UploadPartCopy) when `source.sameProvider`,
   * else streamed through this process (ranged GET → UploadPart). The upload is aborted on failure.
   */
  copyInParts(source: { bucket: string; key: string; sameProvider: boolean; store: S3BackupStore }, key: string, size: number, partSize: number): Promise<{ parts: number }>;
  /** The part size this store's destination is configured with. */
  readonly partSize: number;
  /** The stored object's size (HEAD), or null when S3 says it is not there (issue 17). */
  objectSize(key: string): Promise<number | null>;
}

/** Upstream's fallback when BACKUP_MAX_PART_SIZE is unset or not positive. */
export const DEFAULT_MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

export function effectivePartSize(maxPartSize: number): number {
  return Number.isFinite(maxPartSize) && maxPartSize > 0 ? Math.floor(maxPartSize) : DEFAULT_MAX_PART_SIZE;
}

export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/**
 * Checksum modes are pinned to WHEN_REQUIRED: with the SDK default, presigned UploadPart URLs carry
 * the CRC32 of an empty body and strict S3-compatible stores reject the daemon's real upload.
 */
export function buildS3Client(cfg: PanelS3Config, opts: { maxAttempts?: number } = {}): S3Client {
  const credentials = cfg.accessKeyId && cfg.secretAccessKey
    ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey }
    : undefined;
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint || undefined,
    forcePathStyle: cfg.forcePathStyle,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK sets no timeouts: an endpoint that takes a connection and never answers would hold a
    // request (and the daemon waiting on part URLs) for good. Idle, not total: big GETs go on.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
  });
}

/** S3 answers no retry can change: the user must fix the configuration. */
const REFUSALS: Record<string, string> = {
  SignatureDoesNotMatch: 'S3 refused the credentials (SignatureDoesNotMatch)',
  InvalidAccessKeyId: 'S3 refused the credentials (InvalidAccessKeyId)',
  AccessDenied: 'S3 denied access to the bucket (AccessDenied)',
  AllAccessDisabled: 'S3 denied access to the bucket (AllAccessDisabled)',
  NoSuchBucket: 'the S3 bucket does not exist (NoSuchBucket)',
  InvalidBucketName: 'the S3 bucket name is invalid (InvalidBucketName)',
  PermanentRedirect: 'the S3 bucket is in another region or endpoint (PermanentRedirect)',
  AuthorizationHeaderMalformed: 'S3 refused the credentials (AuthorizationHeaderMalformed)',
  ExpiredToken: 'S3 refused the credentials (ExpiredToken)',
  InvalidToken: 'S3 refused the credentials (InvalidToken)',
};

/** Failures to reach the endpoint at all (after the SDK's own retries): nothing answered, so no S3 code. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'TimeoutError', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function unreachableCode(err: unknown): string | undefined {
  const e = err as { code?: string; name?: string; errors?: Array<{ code?: string }> } | null;
  const code = e?.code ?? e?.errors?.[0]?.code ?? e?.name;
  return code && UNREACHABLE.has(code) ? code : undefined;
}

/**
 * Starting an upload on an endpoint that cannot be reached is final: the daemon's part-URL request
 * would otherwise be retried for its whole budget before the backup fails with the same cause.
 */
function startFailure(op: string, err: unknown): AppError {
  const code = unreachableCode(err);
  if (!code) return s3Failure(op, err);
  return new AppError(REMOTE_S3_REFUSED_CODE, REMOTE_S3_REFUSED_STATUS, `the S3 endpoint cannot be reached (${code})`, {
    cause: err, meta: { operation: op, network_error: code }, retryable: false,
  });
}

/**
 * S3's error as the panel's. A refusal (403 credentials, 404 bucket, …) becomes a 424 with a short
 * user-safe detail (REMOTE_S3_REFUSED_STATUS in src/wire): a daemon asking for part URLs gives up
 * at once and reports the detail as its failure reason. Everything else stays a retryable 502.
 */
function s3Failure(op: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const name = (err as { name?: string } | null)?.name;
  const httpStatus = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const refusal = name ? REFUSALS[name] : undefined;
  if (refusal || httpStatus === 403) {
    return new AppError(REMOTE_S3_REFUSED_CODE, REMOTE_S3_REFUSED_STATUS, refusal ?? `S3 refused the request (${name ?? 'HTTP 403'})`, {
      cause: err,
      meta: { operation: op, s3_error: name, s3_status: httpStatus },
      retryable: false,
    });
  }
  return new AppError('S3StorageException', 502, `S3 ${op} failed: ${name ? `${name}: ` : ''}${errorMessage(err)}`, {
    cause: err,
    meta: { operation: op, s3_error: name, s3_status: httpStatus },
    retryable: httpStatus === undefined || httpStatus >= 500,
  });
}

export function createS3BackupStore(cfg: PanelS3Config, logger: Logger = silentLogger()): S3BackupStore {
  const client = buildS3Client(cfg);
  // One client without retries, made on first use, for the checks that must fail fast (a HEAD
  // before each download and restore, the destination probe): not a new client per call.
  let noRetry: S3Client | undefined;
  const noRetryClient = () => (noRetry ??= buildS3Client(cfg, { maxAttempts: 1 }));
  const partSize = effectivePartSize(cfg.maxPartSize);
  const uploadTtl = Math.max(1, Math.floor(cfg.presignedUrlLifespanMinutes * 60)) || 3600;
  const Bucket = cfg.bucket;
  const prefix = cfg.prefix ?? '';

  async function listAllParts(key: string, uploadId: string): Promise<CompletedPart[]> {
    const out: CompletedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const p of page.Parts ?? []) out.push({ ETag: p.ETag, PartNumber: p.PartNumber });
      if (!page.IsTruncated || !page.NextPartNumberMarker) return out;
      marker = page.NextPartNumberMarker;
    }
  }

  /** HEAD of the key: false when S3 says it is not there (or cannot say). */
  async function objectExists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  const store: S3BackupStore = {
    uploadUrlTtlSeconds: uploadTtl,

    objectKey(serverUuid, backupUuid) {
      return `${prefix}${serverUuid}/${backupUuid}.tar.gz`;
    },

    indexKey(serverUuid, backupUuid) {
      return `${serverUuid}/${backupUuid}.idx`;
    },

    async presignedPutUrl(key, ttlSeconds) {
      try {
        return await getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key, ContentType: 'application/octet-stream' }), { expiresIn: Math.max(1, Math.floor(ttlSeconds)) });
      } catch (err) {
        throw s3Failure('presign index upload', err);
      }
    },

    async presignUpload(key, existingUploadId, size, opts = {}) {
      if (!Number.isFinite(size) || size <= 0) {
        throw new AppError('S3InvalidUploadSize', 400, 'A non-empty "size" query parameter must be provided.');
      }
      if (size > S3_MAX_OBJECT_SIZE) {
        throw new AppError('S3InvalidUploadSize', 400, `An upload of ${size} bytes is larger than S3's object limit of ${S3_MAX_OBJECT_SIZE} bytes (5 TiB).`);
      }
      // Growing parts (backwing daemons) or one fixed size raised to fit (Wings): never over 10,000.
      const firstPart = opts.growing ? partSize : fixedPartSizeFor(partSize, size);
      const count = opts.growing ? partsForSize(partSize, size) : partCount(size, firstPart);
      if (count > S3_MAX_PARTS) {
        throw new AppError('S3InvalidUploadSize', 400, `An upload of ${size} bytes needs ${count} parts; S3 allows at most ${S3_MAX_PARTS}.`);
      }
      let uploadId = existingUploadId;
      try {
        if (!uploadId) {
          const created = await client.send(new CreateMultipartUploadCommand({
            Bucket,
            Key: key,
            ContentType: 'application/x-gzip',
            StorageClass: cfg.storageClass ? (cfg.storageClass as StorageClass) : undefined,
          }));
          if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
          uploadId = created.UploadId;
          logger.debug({ key }, 's3 multipart upload created');
        }
        const parts: string[] = [];
        const from = opts.range?.first ?? 1;
        const to = opts.range ? Math.min(count, from + opts.range.count - 1) : count;
        for (let n = from; n <= to; n++) {
          parts.push(await getSignedUrl(client, new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: n }), { expiresIn: uploadTtl }));
        }
        return { uploadId, partSize: firstPart, parts };
      } catch (err) {
        throw startFailure('presign upload', err);
      }
    },

    async completeUpload(key, uploadId, parts) {
      try {
        const completed = parts && parts.length > 0
          ? parts.map((p) => ({ ETag: p.etag, PartNumber: p.part_number }))
          : await listAllParts(key, uploadId);
        completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
        await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } }));
        logger.debug({ key, parts: completed.length }, 's3 multipart upload completed');
      } catch (err) {
        // The daemon's report is retried after a panel that completed the upload died before
        // recording it: the upload is gone because it became the object. Only this backup writes
        // this key, so the object being there means the completion happened.
        if ((err as { name?: string }).name === 'NoSuchUpload' && (await objectExists(key))) {
          logger.info({ key }, 's3 multipart upload was already completed (a repeated report)');
          return;
        }
        throw s3Failure('complete upload', err);
      }
    },

    async abortUpload(key, uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
      } catch (err) {
        // Already aborted or completed: the goal (no dangling upload) is met.
        if ((err as { name?: string }).name === 'NoSuchUpload') return;
        throw s3Failure('abort upload', err);
      }
    },

    async deleteObject(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        throw s3Failure('delete object', err);
      }
    },

    async objectSize(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return typeof head.ContentLength === 'number' ? head.ContentLength : null;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if ((err as { name?: string }).name === 'NotFound' || status === 404) return null;
        throw s3Failure('head object', err);
      }
    },

    async presignedGetUrl(key, ttlSeconds, downloadName) {
      try {
        return await getSignedUrl(client, new GetObjectCommand({
          Bucket,
          Key: key,
          ResponseContentDisposition: downloadName ? contentDisposition(downloadName) : undefined,
        }), { expiresIn: Math.max(1, Math.floor(ttlSeconds)) });
      } catch (err) {
        throw s3Failure('presign download', err);
      }
    },

    location: { endpoint: cfg.endpoint ?? '', region: cfg.region, accessKeyId: cfg.accessKeyId ?? '', bucket: Bucket },

    partSize,

    async head(key, timeoutMs = 5000) {
      try {
        const r = await noRetryClient().send(new HeadObjectCommand({ Bucket, Key: key }), { abortSignal: AbortSignal.timeout(timeoutMs) });
        return { size: Number(r.ContentLength ?? 0) };
      } catch (err) {
        throw s3Failure('head object', err);
      }
    },

    async read(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        return r.Body as Readable;
      } catch (err) {
        throw s3Failure('get object', err);
      }
    },

    async put(key, body, size) {
      try {
        await client.send(new PutObjectCommand({
          Bucket, Key: key, Body: body, ContentLength: size, ContentType: 'application/x-gzip',
          StorageClass: cfg.storageClass ? (cfg.storageClass as StorageClass) : undefined,
        }));
      } catch (err) {
        throw s3Failure('put object', err);
      }
    },

    async copyFrom(sourceBucket, sourceKey, key) {
      try {
        await client.send(new CopyObjectCommand({
          Bucket, Key: key, CopySource: `${sourceBucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
          StorageClass: cfg.storageClass ? (cfg.storageClass as StorageClass) : undefined,
        }));
      } catch (err) {
        throw s3Failure('copy object', err);
      }
    },

    async readRange(key, start, end) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=${start}-${end}` }));
        return r.Body as Readable;
      } catch (err) {
        throw s3Failure('get object range', err);
      }
    },

    async copyInParts(source, key, size, each) {
      let uploadId: string | undefined;
      let op = 'create multipart copy';
      try {
        const created = await client.send(new CreateMultipartUploadCommand({
          Bucket, Key: key, ContentType: 'application/x-gzip',
          StorageClass: cfg.storageClass ? (cfg.storageClass as StorageClass) : undefined,
        }));
        uploadId = created.UploadId;
        if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        const parts: CompletedPart[] = [];
        const copySource = `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`;
        for (let n = 1, start = 0; start < size; n++, start += each) {
          const end = Math.min(size, start + each) - 1;
          op = source.sameProvider ? 'upload part copy' : 'upload part';
          if (source.sameProvider) {
            const r = await client.send(new UploadPartCopyCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: n, CopySource: copySource, CopySourceRange: `bytes=${start}-${end}` }));
            parts.push({ ETag: r.CopyPartResult?.ETag, PartNumber: n });
          } else {
            const body = await source.store.readRange(source.key, start, end);
            const r = await client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: end - start + 1 }));
            parts.push({ ETag: r.ETag, PartNumber: n });
          }
        }
        op = 'complete multipart copy';
        await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        return { parts: parts.length };
      } catch (err) {
        if (uploadId) {
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId })).catch((e: unknown) => {
            logger.warn({ key, err: errorMessage(e) }, 'abort of a failed multipart copy failed');
          });
        }
        throw s3Failure(op, err);
      }
    },

    async probe() {
      // A refusal must not be retried, and an unreachable endpoint must fail fast.
      const once = noRetryClient();
      const key = `${prefix}.backwing-probe-${Date.now().toString(36)}`;
      let op = 'list objects';
      try {
        await once.send(new ListObjectsV2Command({ Bucket, Prefix: prefix || undefined, MaxKeys: 1 }), { abortSignal: AbortSignal.timeout(10_000) });
        op = 'put object';
        await once.send(new PutObjectCommand({ Bucket, Key: key, Body: 'backwing destination test\n' }), { abortSignal: AbortSignal.timeout(10_000) });
        op = 'delete object';
        await once.send(new DeleteObjectCommand({ Bucket, Key: key }), { abortSignal: AbortSignal.timeout(10_000) });
      } catch (err) {
        throw startFailure(op, err);
      }
    },
  };
  return store;
}

/** RFC 6266 attachment header with an ASCII fallback and the exact name in filename*. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
