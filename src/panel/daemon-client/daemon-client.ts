/**
 * The panel's calls to a node's daemon (Wings-compatible API). Mutating calls are never retried:
 * a timed-out backup request may still have started on the daemon, and a second one would start
 * another archive. Every failure is a DaemonConnectionError shaped like upstream's exception, so
 * client API users see the same status codes and messages as with a Pterodactyl panel.
 */
import { Value } from 'typebox/value';
import { DaemonInventory, type DaemonBackupRequest, type DaemonDeleteRequest, type DaemonResticMaintenanceRequest, type DaemonResticMaintenanceResult, type DaemonRestoreRequest, type DaemonCreateServerRequest, type DaemonIgnoreFile, type DaemonSystemInfo } from '../../wire/daemon-api.ts';
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
  /** backwing: removes an archive the panel has no live backup for (`DELETE /api/backwing/archives/{uuid}`). */
  removeArchive(node: NodeConnection, backupUuid: string): Promise<void>;
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

export function createDaemonClient(opts: { timeoutMs?: number; logger?: Logger } = {}): DaemonClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const logger = opts.logger ?? silentLogger();

  async function call(node: NodeConnection, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, callTimeoutMs = timeoutMs): Promise<string> {
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

  const seg = encodeURIComponent;
  return {
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
      await call(node, 'DELETE', `/api/servers/${seg(serverUuid)}/backup/${seg(backupUuid)}`, body, body?.adapter === 'restic' ? Math.max(timeoutMs, 120_000) : timeoutMs);
    },
    async resticMaintenance(node, body) {
      // Prune and check run to the end before the daemon answers: hours at most, for a huge repository.
      const text = await call(node, 'POST', '/api/backwing/restic/maintenance', body, Math.max(timeoutMs, 6 * 3600_000));
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
