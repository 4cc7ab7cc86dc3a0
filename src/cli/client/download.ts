/**
 * Download with resume. Bytes land in `<dest>.part`; an interrupted run (or a dropped connection
 * during this one) continues from the part file's size with an HTTP Range request. Each attempt
 * asks for a fresh URL because download tokens are single-use and short-lived. The part file is
 * renamed to `dest` only once complete, so `dest` existing means the whole archive is there.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, truncate, unlink } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from '../../core/cli-error.ts';
import { networkReason } from './panel-api.ts';

export interface DownloadOptions {
  /** Returns a URL valid for one request (asked again before every attempt). */
  getUrl: () => Promise<string>;
  dest: string;
  /** Called as bytes arrive: bytes on disk so far and the full size when known. */
  onProgress?: (done: number, total: number | null) => void;
  /** Attempts after a failure mid-transfer before giving up (the part file is kept either way). */
  retries?: number;
  /** Delay between attempts; tests set 0. */
  retryDelayMs?: number;
  /** Timeout for headers and for silence between chunks, so a stalled transfer fails. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already in the part file when this run began (0 = fresh download). */
  resumedFrom: number;
  attempts: number;
}

export function partPath(dest: string): string {
  return `${dest}.part`;
}

/** sha256 of exactly the bytes in the part file, kept up to date as bytes are appended. */
interface RunningHash {
  hash: Hash;
  bytes: number;
}

export async function downloadWithResume(opts: DownloadOptions): Promise<DownloadResult> {
  const part = partPath(opts.dest);
  const retries = opts.retries ?? 5;
  const delay = opts.retryDelayMs ?? 1000;
  const resumedFrom = await sizeOf(part);
  const running: RunningHash = { hash: createHash('sha256'), bytes: 0 };
  let attempts = 0;
  let lastError: unknown;
  while (attempts <= retries) {
    attempts++;
    try {
      const total = await attempt(part, opts, running);
      // The hash followed the stream; only if it lost track (it never should) is the file re-read.
      const sha256 = running.bytes === total ? running.hash.digest('hex') : await hashFile(part);
      await rename(part, opts.dest);
      return { file: opts.dest, bytes: total, sha256, resumedFrom, attempts };
    } catch (err) {
      if (err instanceof CliError || opts.signal?.aborted) {
        // Never leave an empty part file behind a refused download; a partial one is kept to resume.
        if ((await stat(part).catch(() => null))?.size === 0) await removeQuietly(part);
        throw err;
      }
      lastError = err;
      if (attempts <= retries && delay > 0) await sleep(delay * attempts);
    }
  }
  const have = await sizeOf(part);
  throw new CliError(
    `download interrupted after ${attempts} attempts (${networkReason(lastError)}); ${have} bytes kept in ${part} — run the same command again to resume`,
  );
}

/** One request. Returns the full size on completion; throws a plain Error when worth retrying. */
async function attempt(part: string, opts: DownloadOptions, running: RunningHash): Promise<number> {
  const offset = await sizeOf(part);
  // Bring the hash in line with what is on disk (an earlier run's part file, or a failed attempt
  // that wrote bytes the hash has not seen).
  if (running.bytes !== offset) await rehash(part, offset, running);
  const url = await opts.getUrl();
  const idle = opts.idleTimeoutMs ?? 30_000;
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timer = setTimeout(() => controller.abort(new Error('no data for too long')), idle);
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error('no data for too long')), idle);
  };
  try {
    const res = await fetch(url, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      signal: controller.signal,
    });
    poke();

    let start: number;
    let total: number | null;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== offset) {
        await res.body?.cancel();
        // The server resumed somewhere else: the part file cannot be trusted to line up.
        await truncate(part, 0);
        throw new Error(`server answered a range other than the one asked for (${res.headers.get('content-range')})`);
      }
      start = offset;
      total = range.total;
    } else if (res.status === 200) {
      // No Range support (or a fresh start): the body is the whole file.
      start = 0;
      const len = Number(res.headers.get('content-length'));
      total = Number.isFinite(len) && res.headers.has('content-length') ? len : null;
    } else if (res.status === 416) {
      await res.body?.cancel();
      const range = parseContentRange(res.headers.get('content-range'));
      if (range?.total !== null && range?.total === offset) return offset; // the part file was already whole
      await truncate(part, 0).catch(() => undefined);
      throw new Error('the part file does not match the backup on the server; starting over');
    } else {
      const text = await res.text().catch(() => '');
      throw new CliError(`download refused: HTTP ${res.status}${describeBody(text)}`);
    }
    if (!res.body) throw new Error('empty response body');

    if (start === 0 && running.bytes !== 0) {
      running.hash = createHash('sha256');
      running.bytes = 0;
    }
    let done = start;
    opts.onProgress?.(done, total);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        running.hash.update(chunk);
        running.bytes += chunk.length;
        poke();
        opts.onProgress?.(done, total);
        cb(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
      counter,
      createWriteStream(part, { flags: start === 0 ? 'w' : 'a' }),
    );
    if (total !== null && done !== total) throw new Error(`connection closed at ${done} of ${total} bytes`);
    return done;
  } catch (err) {
    if (controller.signal.aborted && !(err instanceof CliError)) {
      throw new Error(errorText(controller.signal.reason) ?? 'aborted', { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

export function parseContentRange(h: string | null): { start: number; end: number | null; total: number | null } | null {
  if (!h) return null;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(h.trim());
  if (!m) return null;
  return {
    start: m[1] === undefined ? -1 : Number(m[1]),
    end: m[2] === undefined ? null : Number(m[2]),
    total: m[3] === '*' ? null : Number(m[3]),
  };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    // Missing part file = fresh start; make sure it exists so truncate()/append work.
    const fh = await open(path, 'a');
    await fh.close();
    return 0;
  }
}

async function rehash(part: string, length: number, running: RunningHash): Promise<void> {
  running.hash = createHash('sha256');
  running.bytes = 0;
  if (length === 0) return;
  for await (const chunk of createReadStream(part, { start: 0, end: length - 1 })) {
    running.hash.update(chunk as Buffer);
    running.bytes += (chunk as Buffer).length;
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

function describeBody(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: string; errors?: Array<{ detail?: string }> };
    const msg = j.error ?? j.errors?.[0]?.detail;
    return msg ? ` (${msg})` : '';
  } catch {
    return '';
  }
}

function errorText(reason: unknown): string | undefined {
  return reason instanceof Error ? reason.message : reason === undefined ? undefined : String(reason);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
