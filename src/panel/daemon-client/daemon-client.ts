/**
 * The panel's calls to a node's daemon (Wings-compatible API). Mutating calls are never retried:
 * a timed-out backup request may still have started on the daemon, and a second one would start
 * another archive. Every failure is a DaemonConnectionError shaped like upstream's exception, so
 * client API users see the same status codes and messages as with a Pterodactyl panel.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { BackupComparison, BackupFileEntry, BackupFileList, DaemonArchiveStat, DaemonCopyResult, DaemonInventory, DaemonVerifyResult, type DaemonCopyRequest, type DaemonVerifyRequest, type DaemonBackupRequest, type DaemonDeleteRequest, type DaemonResticMaintenanceRequest, type DaemonResticMaintenanceResult, type DaemonRestoreRequest, type DaemonCreateServerRequest, type DaemonIgnoreFile, type DaemonSystemInfo } from '../../wire/daemon-api.ts';
import { AppError, errorMessage } from '../../core/app-error.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';

export interface NodeConnection {
  /** Base URL of the daemon, e.g. `http://10.0.0.5:8080` (a trailing slash is tolerated). */
  url: string;
  /** The node's daemon token (the secret part, not `token_id.token`). */
  token: string;
}

export interface DaemonClient {
  createServer(node: NodeConnection, uuid: string): Promise<void>;
  createBackup(node: NodeConnection, serverUuid: string, body: DaemonBackupRequest): Promise<void>;
  restoreBackup(node: NodeConnection, serverUuid: string, backupUuid: string, body: DaemonRestoreRequest): Promise<void>;
  /** Rejects with daemonStatus 404 when the daemon has no such backup; callers decide whether that counts as gone. */
  deleteBackup(node: NodeConnection, serverUuid: string, backupUuid: string, body?: DaemonDeleteRequest): Promise<void>;
  /** backwing daemons only. Rejects with daemonStatus 404 when that backup is not running there. */
  cancelBackup(node: NodeConnection, serverUuid: string, backupUuid: string): Promise<void>;
  /** backwing daemons only. Rejects with daemonStatus 404 when no restore is running there. */
  cancelRestore(node: NodeConnection, serverUuid: string): Promise<void>;
  /** backwing daemons only: the server's .pteroignore, read safely by the daemon. */
  ignoreFile(node: NodeConnection, serverUuid: string): Promise<DaemonIgnoreFile>;
  /** backwing daemons only: `restic prune` or `restic check` of a node's repository, answered when done. */
  resticMaintenance(node: NodeConnection, body: DaemonResticMaintenanceRequest): Promise<DaemonResticMaintenanceResult>;
  /** `GET /api/system`; backwing daemons add `control` (absent on Wings). */
  systemInfo(node: NodeConnection): Promise<Partial<DaemonSystemInfo>>;
  /**
   * backwing: what the daemon holds (`GET /api/backwing/inventory`). Null when the daemon does not
   * have the route (an upstream Wings: 404/405) or answers something that is not an inventory.
   */
  inventory(node: NodeConnection): Promise<DaemonInventory | null>;
  /** backwing: a folder of a local backup, or a name search (`pattern` set), read from its index. */
  backupFiles(node: NodeConnection, serverUuid: string, backupUuid: string, q: { path?: string; pattern?: string; page: number; perPage: number }, source?: BackupSource): Promise<BackupFileList>;
  /** backwing: what changed from backup `a` to backup `b` (both of `serverUuid`), from their indexes. */
  compareBackups(node: NodeConnection, serverUuid: string, a: string, b: string, q: { page: number; perPage: number }, sourceA?: BackupSource, sourceB?: BackupSource): Promise<BackupComparison>;
  /** backwing: one entry of a local backup, or 'building' while its index is made. */
  backupFileStat(node: NodeConnection, serverUuid: string, backupUuid: string, path: string, source?: BackupSource): Promise<BackupFileEntry | 'building'>;
  /** backwing: removes an archive the panel has no live backup for (`DELETE /api/backwing/archives/{uuid}`). */
  removeArchive(node: NodeConnection, backupUuid: string): Promise<void>;
  /**
   * backwing: reads a stored archive back (issue 17); answers when the node is done (it verifies
   * one archive at a time), so the call waits up to `timeoutMs` rather than the usual timeout.
   */
  verifyBackup(node: NodeConnection, serverUuid: string, backupUuid: string, body: DaemonVerifyRequest, timeoutMs: number): Promise<DaemonVerifyResult>;
  /** backwing: the local archive's size; null when the node says it does not hold it (404). */
  archiveStat(node: NodeConnection, serverUuid: string, backupUuid: string): Promise<DaemonArchiveStat | null>;
  /** backwing: the node uploads its local archive to presigned part URLs (a copy); answered when done. */
  copyBackup(node: NodeConnection, serverUuid: string, backupUuid: string, body: DaemonCopyRequest, timeoutMs: number): Promise<DaemonCopyResult>;
}

/** backwing: presigned URLs of an S3 backup's archive and index object, for the daemon to read. */
export interface BackupS3Urls {
  archive: string;
  index: string;
  indexPut: string;
}

/** backwing: a restic backup's repository, sealed for its node (src/core/restic-claim.ts). */
export interface BackupResticSource {
  restic: string;
}

/** Where the daemon reads a browsed backup from: its own disk (undefined), S3, or a restic repository. */
export type BackupSource = BackupS3Urls | BackupResticSource;

function sourceHeaders(src: BackupSource | undefined): Record<string, string> {
  if (!src) return {};
  if ('restic' in src) return { 'x-backwing-restic': src.restic };
  return { 'x-backwing-archive-url': src.archive, 'x-backwing-index-url': src.index, 'x-backwing-index-put-url': src.indexPut };
}

/** A backwing-only answer, checked against its wire schema; anything else (a Wings node) is a 502 naming what failed. */
function checked<S extends TSchema>(schema: S, text: string, what: string): Static<S> {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // checked below
  }
  if (!Value.Check(schema, parsed)) throw new DaemonConnectionError(502, `The machine running this server ${what} (it needs a backwing daemon).`, {});
  return parsed as Static<S>;
}

export const DAEMON_UNREACHABLE_MESSAGE = 'Could not establish a connection to the machine running this server. Please try again.';

/** Upstream's DaemonConnectionException: the HTTP status follows the daemon's (504 when none). */
export class DaemonConnectionError extends AppError {
  /** The daemon's HTTP status, or undefined when it could not be reached. */
  readonly daemonStatus: number | undefined;
  readonly requestId: string | undefined;
  constructor(status: number, message: string, opts: { daemonStatus?: number; requestId?: string; cause?: unknown; daemonError?: string }) {
    super('DaemonConnectionException', status, message, {
      cause: opts.cause,
      meta: opts.daemonStatus === undefined ? undefined : { daemon_status: opts.daemonStatus, request_id: opts.requestId, daemon_error: opts.daemonError },
      retryable: opts.daemonStatus === undefined || opts.daemonStatus >= 500,
    });
    this.name = 'DaemonConnectionError';
    this.daemonStatus = opts.daemonStatus;
    this.requestId = opts.requestId;
  }
}

export function isDaemonConnectionError(err: unknown): err is DaemonConnectionError {
  return err instanceof DaemonConnectionError;
}

/** Error codes that mean the request never reached a daemon. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

/**
 * True when a call failed without any answer but may still have reached the daemon (timed out,
 * connection dropped after sending): the daemon may be doing what was asked. False for answers
 * and for failures that prove nothing was delivered (connection refused, unknown host).
 */
export function deliveryUncertain(err: unknown): boolean {
  if (!isDaemonConnectionError(err) || err.daemonStatus !== undefined) return false;
  for (let c: unknown = err.cause, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_DELIVERED.has(code)) return false;
    // fetch refuses ports on its blocklist before connecting.
    if ((c as { message?: unknown }).message === 'bad port') return false;
  }
  return true;
}

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** Daemons sometimes send JSON error bodies as text/plain (see wings-backups.md §1.0), so parse by content, not header. */
function readErrorBody(text: string): { error?: string; requestId?: string } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  try {
    const parsed = JSON.parse(trimmed) as { error?: unknown; request_id?: unknown };
    if (parsed && typeof parsed === 'object') {
      return {
        error: typeof parsed.error === 'string' ? parsed.error : undefined,
        requestId: typeof parsed.request_id === 'string' ? parsed.request_id : undefined,
      };
    }
  } catch {
    // not JSON: fall through and use the text as the message
  }
  return { error: trimmed.slice(0, 500) };
}

/**
 * One POST that may take as long as `timeoutMs` to answer (a verification reading a large archive
 * at a bandwidth limit). fetch cannot: its dispatcher gives up on response headers after 300 s.
 */
function longPost(url: string, token: string, body: unknown, timeoutMs: number): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      signal: AbortSignal.timeout(timeoutMs),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // A verification answer is a few hundred bytes; anything huge is not one.
        if (size > 1 << 20) req.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function createDaemonClient(opts: { timeoutMs?: number; logger?: Logger } = {}): DaemonClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const logger = opts.logger ?? silentLogger();

  async function call(node: NodeConnection, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, extraHeaders: Record<string, string> = {}, callTimeoutMs = timeoutMs): Promise<string> {
    const url = joinUrl(node.url, path);
    const log = logger.child({ method, path });
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${node.token}`,
          accept: 'application/json',
          'content-type': 'application/json',
          ...extraHeaders,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(callTimeoutMs),
      });
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'daemon unreachable');
      throw new DaemonConnectionError(504, DAEMON_UNREACHABLE_MESSAGE, { cause: err });
    }

    let text = '';
    try {
      text = await res.text();
    } catch (err) {
      // The status line arrived but the body did not: for a 2xx the daemon accepted the call.
      if (res.status >= 200 && res.status < 300) return '';
      log.warn({ err: errorMessage(err), status: res.status }, 'daemon response body lost');
    }
    if (res.status >= 200 && res.status < 300) return text;

    const parsed = readErrorBody(text);
    const requestId = parsed.requestId ?? res.headers.get('x-request-id') ?? undefined;
    const rid = requestId ?? '<empty>';
    log.warn({ status: res.status, request_id: requestId, daemon_error: parsed.error }, 'daemon call failed');
    if (res.status >= 500) {
      throw new DaemonConnectionError(res.status,
        `There was an error while communicating with the machine running this server. This error has been logged, please try again. (code: ${res.status}) (request_id: ${rid})`,
        { daemonStatus: res.status, requestId, daemonError: parsed.error });
    }
    if (res.status >= 400) {
      // The daemon's sentence usually ends with a period already; one is enough.
      const detail = (parsed.error ?? (res.statusText || `HTTP ${res.status}`)).replace(/[.\s]+$/, '');
      throw new DaemonConnectionError(res.status,
        `An error occurred on the remote host: ${detail}. (request id: ${rid})`,
        { daemonStatus: res.status, requestId, daemonError: parsed.error });
    }
    // 1xx/3xx: the daemon did not do what was asked, and a redirect must not carry the token elsewhere.
    throw new DaemonConnectionError(502,
      `There was an error while communicating with the machine running this server. This error has been logged, please try again. (code: ${res.status}) (request_id: ${rid})`,
      { daemonStatus: res.status, requestId });
  }

  /** A POST answered when the daemon is done (longPost), with call()'s error mapping. */
  async function longCall(node: NodeConnection, path: string, body: unknown, callTimeoutMs: number): Promise<string> {
    const res = await longPost(joinUrl(node.url, path), node.token, body, callTimeoutMs).catch((err: unknown) => {
      logger.warn({ path, err: errorMessage(err) }, 'daemon unreachable');
      throw new DaemonConnectionError(504, DAEMON_UNREACHABLE_MESSAGE, { cause: err });
    });
    if (res.status < 200 || res.status >= 300) {
      const parsedErr = readErrorBody(res.text);
      const detail = (parsedErr.error ?? `HTTP ${res.status}`).replace(/[.\s]+$/, '');
      throw new DaemonConnectionError(res.status >= 400 ? res.status : 502, `An error occurred on the remote host: ${detail}. (request id: ${parsedErr.requestId ?? '<empty>'})`, { daemonStatus: res.status, requestId: parsedErr.requestId, daemonError: parsedErr.error });
    }
    return res.text;
  }

  const seg = encodeURIComponent;
  return {
    async archiveStat(node, serverUuid, backupUuid) {
      let text: string;
      try {
        text = await call(node, 'GET', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}`);
      } catch (err) {
        if (isDaemonConnectionError(err) && err.daemonStatus === 404) return null;
        throw err;
      }
      return checked(DaemonArchiveStat, text, 'cannot say whether it holds a backup');
    },
    async copyBackup(node, serverUuid, backupUuid, body, copyTimeoutMs) {
      return checked(DaemonCopyResult, await longCall(node, `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/copy`, body, copyTimeoutMs), 'cannot upload copies of its backups');
    },
    async createServer(node, uuid) {
      const body: DaemonCreateServerRequest = { uuid, start_on_completion: false };
      await call(node, 'POST', '/api/servers', body);
    },
    async createBackup(node, serverUuid, body) {
      await call(node, 'POST', `/api/servers/${seg(serverUuid)}/backup`, body);
    },
    async restoreBackup(node, serverUuid, backupUuid, body) {
      await call(node, 'POST', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/restore`, body);
    },
    async deleteBackup(node, serverUuid, backupUuid, body) {
      // A restic forget may wait for a repository lock (backoff up to about a minute).
      await call(node, 'DELETE', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}`, body, {}, body?.adapter === 'restic' ? Math.max(timeoutMs, 120_000) : timeoutMs);
    },
    async resticMaintenance(node, body) {
      // Prune and check run to the end before the daemon answers: hours at most, for a huge repository.
      const text = await call(node, 'POST', '/api/backwing/restic/maintenance', body, {}, Math.max(timeoutMs, 6 * 3600_000));
      return JSON.parse(text) as DaemonResticMaintenanceResult;
    },
    async systemInfo(node) {
      const text = await call(node, 'GET', '/api/system');
      try {
        const v = JSON.parse(text) as unknown;
        return v && typeof v === 'object' ? (v as Partial<DaemonSystemInfo>) : {};
      } catch {
        throw new DaemonConnectionError(502, 'The machine running this server answered with something other than JSON.', { daemonStatus: 200 });
      }
    },
    async inventory(node) {
      let text: string;
      try {
        text = await call(node, 'GET', '/api/backwing/inventory');
      } catch (err) {
        if (isDaemonConnectionError(err) && (err.daemonStatus === 404 || err.daemonStatus === 405)) return null;
        throw err;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return null;
      }
      return Value.Check(DaemonInventory, parsed) ? parsed : null;
    },
    async backupFiles(node, serverUuid, backupUuid, q, source) {
      const query = new URLSearchParams({ page: String(q.page), per_page: String(q.perPage) });
      if (q.pattern !== undefined) query.set('pattern', q.pattern);
      else if (q.path !== undefined) query.set('path', q.path);
      const sub = q.pattern !== undefined ? 'files/search' : 'files';
      const text = await call(node, 'GET', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/${sub}?${query}`, undefined, sourceHeaders(source));
      return checked(BackupFileList, text, 'cannot list the files of a backup');
    },
    async compareBackups(node, serverUuid, a, b, q, sourceA, sourceB) {
      const query = new URLSearchParams({ with: b, page: String(q.page), per_page: String(q.perPage) });
      const other = Object.fromEntries(Object.entries(sourceHeaders(sourceB)).map(([k, v]) => [k.replace('x-backwing-', 'x-backwing-other-'), v]));
      const text = await call(node, 'GET', `/api/servers/${seg(serverUuid)}/backup/${seg(a)}/compare?${query}`, undefined, { ...sourceHeaders(sourceA), ...other });
      return checked(BackupComparison, text, 'cannot compare backups');
    },
    async backupFileStat(node, serverUuid, backupUuid, path, source) {
      const text = await call(node, 'GET', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/files/stat?${new URLSearchParams({ path })}`, undefined, sourceHeaders(source));
      const r = checked(Type.Union([BackupFileEntry, Type.Object({ status: Type.Literal('building') })]), text, 'cannot read the files of a backup');
      return 'status' in r ? 'building' : r;
    },
    async verifyBackup(node, serverUuid, backupUuid, body, verifyTimeoutMs) {
      const text = await longCall(node, `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/verify`, body, verifyTimeoutMs);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      // A daemon without the route (Wings) or a garbled answer proves nothing about the archive.
      if (!Value.Check(DaemonVerifyResult, parsed)) throw new DaemonConnectionError(502, 'The machine running this server cannot verify backups (it answered something other than a verification).', {});
      return parsed;
    },
    async removeArchive(node, backupUuid) {
      await call(node, 'DELETE', `/api/backwing/archives/${seg(backupUuid)}`);
    },
    async cancelBackup(node, serverUuid, backupUuid) {
      await call(node, 'POST', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}/cancel`);
    },
    async cancelRestore(node, serverUuid) {
      await call(node, 'POST', `/api/servers/${seg(serverUuid)}/restore/cancel`);
    },
    async ignoreFile(node, serverUuid) {
      const text = await call(node, 'GET', `/api/servers/${seg(serverUuid)}/ignore-file`);
      try {
        const doc = JSON.parse(text) as DaemonIgnoreFile;
        if (typeof doc.state === 'string' && typeof doc.content === 'string') return doc;
      } catch {
        // fall through: a daemon without this route (Wings) answers something else
      }
      throw new DaemonConnectionError(502, 'The machine running this server did not return its .pteroignore file.', {});
    },
  };
}
