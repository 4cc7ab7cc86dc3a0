/**
 * The daemon's calls to the panel's remote API. Headers are Wings' so an upstream panel accepts
 * us. Each call is one attempt bounded by `remote_query.timeout`; `withRetry` adds Wings' backoff
 * for calls a job is waiting on. Reports do not use it: they go through the persistent outbox.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RemoteIndexUploadUrl, RemoteServer, RemoteServerList, RemoteUploadUrls } from '../../wire/remote-api.ts';
import { VERSION } from '../../core/version.ts';
import { AppError } from '../../core/app-error.ts';
import { daemonErrors } from '../errors.ts';
import type { DaemonConfig } from '../config.ts';

export interface PanelClient {
  listServers(page: number, perPage: number): Promise<RemoteServerList>;
  getServer(uuid: string): Promise<RemoteServer>;
  /** `growing`: ask a backwing panel for growing part sizes (src/wire/part-sizes.ts); others ignore it. */
  getUploadUrls(backupUuid: string, size: number, growing?: boolean): Promise<RemoteUploadUrls>;
  /** backwing panels: where to PUT the backup index of an S3 backup (absent in test fakes). */
  getIndexUploadUrl?(backupUuid: string): Promise<RemoteIndexUploadUrl>;
  /** Raw POST used by the outbox; returns the HTTP status. Throws only on transport errors. */
  post(path: string, body: unknown): Promise<number>;
}

/**
 * The fields Wings sends, per report path. An upstream panel gets exactly these: whatever
 * backwing adds to a report (failure reasons, changed files…) stays between backwing's parts.
 */
const WINGS_REPORT_FIELDS: Array<[RegExp, readonly string[]]> = [
  [/^\/backups\/[^/]+$/, ['successful', 'checksum', 'checksum_type', 'size', 'parts']],
  [/^\/backups\/[^/]+\/restore$/, ['successful']],
];

export function wingsShaped(path: string, body: unknown): unknown {
  const fields = WINGS_REPORT_FIELDS.find(([re]) => re.test(path))?.[1];
  if (!fields || body === null || typeof body !== 'object') return body;
  const src = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in src) out[f] = src[f];
  return out;
}

function firstPanelError(text: string): { code?: string; detail?: string } | undefined {
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; detail?: string }[] };
    return body.errors?.[0];
  } catch {
    return undefined; // not JSON
  }
}

function panelMessage(status: number, text: string): string {
  const first = firstPanelError(text);
  if (first) return `Error response from Panel: ${first.code ?? '_MissingResponseCode'}: ${first.detail ?? ''} (HTTP/${status})`;
  return `Error response from Panel: _MissingResponseCode: (HTTP/${status})`;
}

export class HttpPanelClient implements PanelClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  readonly #upstream: boolean;

  constructor(config: DaemonConfig, signal: AbortSignal) {
    this.#base = `${config.remote}/api/remote`;
    this.#upstream = config.panelKind === 'upstream';
    this.#timeoutMs = config.remoteQuery.timeoutMs;
    this.#signal = signal;
    this.#headers = {
      authorization: `Bearer ${config.tokenId}.${config.token.reveal()}`,
      accept: 'application/vnd.pterodactyl.v1+json',
      'content-type': 'application/json',
      'user-agent': `Pterodactyl Wings/v${VERSION} (id:${config.tokenId}) backwing`,
    };
  }

  async #send(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const signal = AbortSignal.any([this.#signal, AbortSignal.timeout(this.#timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(this.#base + path, {
        method,
        headers: this.#headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        redirect: 'error',
      });
    } catch (err) {
      throw daemonErrors.panel(`panel request failed: ${method} ${path.split('?')[0]}`, null, err);
    }
    const text = await res.text().catch(() => '');
    return { status: res.status, text };
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, text } = await this.#send(method, path, body);
    if (status < 200 || status >= 300) {
      const detail = firstPanelError(text)?.detail;
      throw daemonErrors.panel(panelMessage(status, text), status, undefined, typeof detail === 'string' ? detail.slice(0, 300) : undefined);
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw daemonErrors.panel(`panel answered ${method} ${path.split('?')[0]} with invalid JSON`, status, err);
    }
  }

  listServers(page: number, perPage: number): Promise<RemoteServerList> {
    return this.#json('GET', `/servers?page=${page}&per_page=${perPage}`);
  }

  getServer(uuid: string): Promise<RemoteServer> {
    return this.#json('GET', `/servers/${encodeURIComponent(uuid)}`);
  }

  getUploadUrls(backupUuid: string, size: number, growing = false): Promise<RemoteUploadUrls> {
    return this.#json('GET', `/backups/${encodeURIComponent(backupUuid)}?size=${size}${growing ? '&growing=1' : ''}`);
  }

  getIndexUploadUrl(backupUuid: string): Promise<RemoteIndexUploadUrl> {
    return this.#json('GET', `/backups/${encodeURIComponent(backupUuid)}/index`);
  }

  async post(path: string, body: unknown): Promise<number> {
    return (await this.#send('POST', path, this.#upstream ? wingsShaped(path, body) : body)).status;
  }
}

/**
 * Wings' remote-call retry: 0.5 s initial, ×1.5, ±50 % jitter, 12 s cap, give up after `budgetMs`.
 * 4xx answers are final.
 */
export async function withRetry<T>(fn: () => Promise<T>, signal: AbortSignal, budgetMs = 30_000): Promise<T> {
  const started = Date.now();
  let interval = 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof AppError ? err.retryable : true;
      if (!retryable || signal.aborted || Date.now() - started + interval > budgetMs) throw err;
      await sleep(interval * (0.5 + Math.random()), undefined, { signal });
      interval = Math.min(interval * 1.5, 12_000);
    }
  }
}
