/**
 * Streams an archive into an S3 multipart upload through presigned part URLs from the panel.
 *
 * Against the backwing panel (`extendable: true`) the archive is cut into part_size pieces as it
 * is produced; each piece is spooled to a temp file (so a retry can re-send the exact bytes) and
 * uploaded while the next fills. At most `concurrency` parts are uploading plus the one filling,
 * so disk use is bounded by (concurrency + 1) × part_size whatever the archive size.
 *
 * An upstream panel wants the final size before it hands out URLs and starts a new multipart
 * upload on every call, so there we fall back to a temp file of the whole archive.
 */
import { Writable } from 'node:stream';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.ts';
import { AppError } from '../../core/app-error.ts';
import type { RemoteUploadUrls, RemoteUploadedPart } from '../../wire/remote-api.ts';
import type { PanelClient } from '../panel-client/panel-client.ts';
import { withRetry } from '../panel-client/panel-client.ts';
import { putPart } from './part-upload.ts';
import { bytesInParts, grownPartSize } from '../../wire/part-sizes.ts';

/** Produces the archive into `out` and resolves with what the producer measured. */
export type ArchiveProducer<R> = (out: Writable) => Promise<R>;

export interface S3UploadOptions {
  panel: PanelClient;
  backupUuid: string;
  spoolDir: string;
  concurrency: number;
  signal: AbortSignal;
  logger: Logger;
  /** Signed URLs older than this are refreshed before use (presigned URLs expire). */
  urlMaxAgeMs?: number;
  /** Cap on the spooled part size in streaming mode (never below S3's 5 MiB minimum). */
  maxPartSize?: number;
  /** S3's 5 MiB part minimum; only tests against a store that does not enforce it (fauxqs) lower it. */
  minPartSize?: number;
  /**
   * The panel is known to be upstream (sidecar beside Wings): skip the `?size=1` probe, which an
   * upstream panel answers by opening a multipart upload, and ask once with the final size, as Wings.
   */
  upstreamPanel?: boolean;
}

export interface S3UploadOutcome<R> {
  result: R;
  parts: RemoteUploadedPart[];
  size: number;
  mode: 'streaming' | 'tempfile';
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiters.push(r));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Hands out part URLs, asking an extendable panel for more (and fresher) ones when needed. */
class UrlBook {
  #urls: string[];
  #fetchedAt = Date.now();
  #chain: Promise<unknown> = Promise.resolve();
  readonly #panelPartSize: number;
  /** The size we cut the first parts at: the panel's, capped so the spool stays small (S3 allows
   *  parts of different sizes and the presigned URLs do not sign a length). */
  readonly #basePartSize: number;
  /** The panel signs by growing part sizes (part n = grownPartSize(part_size, n)). */
  readonly #growing: boolean;
  constructor(
    first: RemoteUploadUrls,
    private readonly opts: S3UploadOptions,
  ) {
    this.#urls = first.parts;
    this.#panelPartSize = first.part_size;
    this.#growing = first.growing_parts === true;
    this.#basePartSize = Math.max(opts.minPartSize ?? MIN_PART_SIZE, Math.min(first.part_size, opts.maxPartSize ?? first.part_size));
  }

  /** Where part n is cut: it grows with n against a growing panel so 10,000 parts reach 5 TiB. */
  partSize(n: number): number {
    return this.#growing ? grownPartSize(this.#basePartSize, n) : this.#basePartSize;
  }

  /** The `size` that makes the panel sign `count` parts. */
  #sizeFor(count: number): number {
    return this.#growing ? bytesInParts(this.#panelPartSize, count) : count * this.#panelPartSize;
  }

  url(partNumber: number): Promise<string> {
    const next = this.#chain.then(async () => {
      const stale = Date.now() - this.#fetchedAt > (this.opts.urlMaxAgeMs ?? 20 * 60_000);
      if (this.#urls.length < partNumber || stale) {
        // Ask ahead so a steady upload does not call the panel for every part. The panel signs every
        // part on each call, so asking a fixed few ahead cost O(n²) signatures (2,000 parts: ~2 M
        // signatures, over a minute here); doubling (at most 1,000 ahead) keeps the total near 2n.
        const ahead = Math.min(2 * this.#urls.length, partNumber + 1000);
        const want = Math.max(partNumber + this.opts.concurrency + 1, ahead, stale ? this.#urls.length : 0);
        const fresh = await withRetry(() => this.opts.panel.getUploadUrls(this.opts.backupUuid, this.#sizeFor(want), this.#growing), this.opts.signal);
        if (fresh.part_size !== this.#panelPartSize) throw new AppError('E_S3_PART_SIZE', 502, 'panel changed the part size during an upload');
        this.#urls = fresh.parts;
        this.#fetchedAt = Date.now();
        if (this.#urls.length < partNumber) throw new AppError('E_S3_URLS', 502, 'panel handed out too few part URLs');
      }
      return this.#urls[partNumber - 1]!;
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }
}

class PartSpooler extends Writable {
  readonly parts: RemoteUploadedPart[] = [];
  size = 0;
  #partNumber = 0;
  #fh: FileHandle | null = null;
  #file = '';
  #filled = 0;
  readonly #slots: Semaphore;
  readonly #inflight = new Set<Promise<void>>();
  #failure: unknown = null;

  constructor(private readonly book: UrlBook, private readonly opts: S3UploadOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.#slots = new Semaphore(opts.concurrency);
  }

  async #openPart(): Promise<void> {
    this.#partNumber++;
    this.#file = join(this.opts.spoolDir, `${this.opts.backupUuid}.part${this.#partNumber}.tmp`);
    this.#fh = await open(this.#file, 'w', 0o600);
    this.#filled = 0;
  }

  async #sealPart(): Promise<void> {
    const fh = this.#fh!;
    this.#fh = null;
    await fh.close();
    const partNumber = this.#partNumber;
    const file = this.#file;
    const length = this.#filled;
    await this.#slots.acquire();
    if (this.#failure) {
      this.#slots.release();
      await rm(file, { force: true });
      throw this.#failure;
    }
    const job = (async () => {
      try {
        const etag = await putPart(() => this.book.url(partNumber), { file, start: 0, length }, {
          signal: this.opts.signal,
          onRetry: (attempt, err) => this.opts.logger.warn({ part: partNumber, attempt, err: String(err) }, 'retrying part upload'),
        });
        this.parts.push({ etag, part_number: partNumber });
      } catch (err) {
        this.#failure ??= err;
      } finally {
        await rm(file, { force: true });
        this.#slots.release();
      }
    })();
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
  }

  async #writeChunk(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#failure) throw this.#failure;
      if (!this.#fh) await this.#openPart();
      const partSize = this.book.partSize(this.#partNumber);
      const room = partSize - this.#filled;
      const n = Math.min(room, chunk.length - offset);
      await this.#fh!.write(chunk, offset, n);
      this.#filled += n;
      this.size += n;
      offset += n;
      if (this.#filled === partSize) await this.#sealPart();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#writeChunk(chunk).then(() => cb(), (err: Error) => cb(err));
  }

  override _final(cb: (err?: Error | null) => void): void {
    (async () => {
      // An empty archive is impossible (gzip has a header), but a final part must exist anyway.
      if (this.#fh || this.#partNumber === 0) {
        if (!this.#fh) await this.#openPart();
        await this.#sealPart();
      }
      await Promise.all([...this.#inflight]);
      if (this.#failure) throw this.#failure;
      this.parts.sort((a, b) => a.part_number - b.part_number);
    })().then(() => cb(), (err: Error) => cb(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fh = this.#fh;
    this.#fh = null;
    (async () => {
      if (fh) await fh.close().catch(() => undefined);
      if (this.#file) await rm(this.#file, { force: true });
      await Promise.allSettled([...this.#inflight]);
    })().then(() => cb(err), () => cb(err));
  }
}

async function uploadFileInParts(file: string, size: number, opts: S3UploadOptions): Promise<RemoteUploadedPart[]> {
  const urls = await withRetry(() => opts.panel.getUploadUrls(opts.backupUuid, size), opts.signal);
  const partSize = urls.part_size;
  const count = Math.max(1, Math.ceil(size / partSize));
  if (urls.parts.length < count) throw new AppError('E_S3_URLS', 502, 'panel handed out too few part URLs');
  const parts: RemoteUploadedPart[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const start = i * partSize;
      const length = Math.min(partSize, size - start);
      const etag = await putPart(urls.parts[i]!, { file, start, length }, { signal: opts.signal });
      parts[i] = { etag, part_number: i + 1 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, count) }, worker));
  return parts;
}

export async function uploadArchiveToS3<R>(produce: ArchiveProducer<R>, opts: S3UploadOptions): Promise<S3UploadOutcome<R>> {
  const first = opts.upstreamPanel ? null : await withRetry(() => opts.panel.getUploadUrls(opts.backupUuid, 1, true), opts.signal);
  if (first && first.extendable === true && first.part_size > 0) {
    const book = new UrlBook(first, opts);
    const spooler = new PartSpooler(book, opts);
    // Errors surface through produce()'s rejection; an unobserved 'error' event must not crash us.
    spooler.on('error', () => undefined);
    let result: R;
    try {
      result = await produce(spooler);
    } catch (err) {
      // Wait for _destroy: it removes the part being filled and lets in-flight parts finish (and
      // delete their files), so a failed backup leaves no spooled parts behind.
      if (!spooler.destroyed) spooler.destroy(err instanceof Error ? err : new Error(String(err)));
      if (!spooler.closed) await new Promise((r) => spooler.once('close', r));
      throw err;
    }
    if (!spooler.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        spooler.once('finish', resolve);
        spooler.once('error', reject);
        spooler.once('close', () => (spooler.writableFinished ? resolve() : reject(new Error('upload stream closed early'))));
      });
    }
    return { result, parts: spooler.parts, size: spooler.size, mode: 'streaming' };
  }

  opts.logger.info({ backup_uuid: opts.backupUuid }, 'panel hands out fixed-size uploads; staging the archive in a temp file');
  const tmp = join(opts.spoolDir, `${opts.backupUuid}.s3.tmp`);
  try {
    const out = createWriteStream(tmp, { mode: 0o600 });
    const result = await produce(out);
    if (!out.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        out.once('finish', resolve);
        out.once('error', reject);
      });
    }
    const size = (await stat(tmp)).size;
    const parts = await uploadFileInParts(tmp, size, opts);
    return { result, parts, size, mode: 'tempfile' };
  } finally {
    await rm(tmp, { force: true });
  }
}
