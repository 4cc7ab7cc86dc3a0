/**
 * PUT of one multipart part to a presigned URL. Every attempt re-opens the part's bytes from disk
 * (upstream Wings re-sent an already drained body, so its retries could never succeed). 5xx and
 * network errors of the PUT are retried with backoff; any other non-200 is final, and so is a
 * failure to get the part's URL from the panel.
 */
import http from 'node:http';
import https from 'node:https';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, errorMessage } from '../../core/app-error.ts';

export interface PartSource {
  file: string;
  start: number;
  length: number;
}

class PartHttpError extends Error {
  constructor(readonly status: number) {
    super(`part upload answered HTTP ${status}`);
  }
}

function putOnce(url: string, src: PartSource, signal: AbortSignal): Promise<string> {
  const target = new URL(url);
  const mod = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(target, {
      method: 'PUT',
      signal,
      agent: false,
      headers: { 'content-length': String(src.length), 'content-type': 'application/x-gzip' },
    });
    // Two hours per part, as Wings: large parts on slow links are legitimate.
    req.setTimeout(2 * 60 * 60 * 1000, () => req.destroy(new Error('part upload timed out')));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new PartHttpError(res.statusCode ?? 0));
        const etag = res.headers.etag;
        if (!etag) return reject(new Error('part upload answered without an ETag'));
        resolve(etag);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (src.length === 0) {
      req.end();
      return;
    }
    const body = createReadStream(src.file, { start: src.start, end: src.start + src.length - 1 });
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

export interface PutPartOptions {
  signal: AbortSignal;
  /** Total time budget for retries of one part. */
  budgetMs?: number;
  onRetry?: (attempt: number, err: unknown) => void;
}

/** Uploads one part and returns its ETag verbatim (quotes included, as S3 wants it back). */
export async function putPart(url: string | (() => Promise<string>), src: PartSource, opts: PutPartOptions): Promise<string> {
  const started = Date.now();
  const budget = opts.budgetMs ?? 5 * 60_000;
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    // Outside the retry: fetching URLs has its own retry (withRetry), so whatever it throws is
    // final. A 404 there means the panel deleted the backup; retrying it kept a cancelled job
    // alive for the whole part budget (issue 12, defect 3).
    const target = typeof url === 'string' ? url : await url();
    try {
      return await putOnce(target, src, opts.signal);
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const status = err instanceof PartHttpError ? err.status : null;
      const retryable = status === null || status >= 500;
      if (!retryable || Date.now() - started + delay > budget) {
        throw new AppError('E_S3_PART', 502, `uploading part failed: ${errorMessage(err)}`, { cause: err, meta: { status } });
      }
      opts.onRetry?.(attempt, err);
      await sleep(delay * (0.5 + Math.random()), undefined, { signal: opts.signal });
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
