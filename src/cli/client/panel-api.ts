/**
 * A small typed client for the panel's client API (`/api/client/...`), as the CLI uses it. Every
 * failure becomes a CliError whose message is one line a person can act on.
 */
import type {
  BackupAttributes,
  BackupComparisonObject,
  BackupFileListResponse,
  BackupList,
  BackupObject,
  ServerObject,
  SignedUrl,
  WebsocketCredentials,
} from '../../wire/client-api.ts';
import { CliError } from '../../core/cli-error.ts';
import { parseRetryAfter, tryAgainSentence } from '../../core/retry-after.ts';
import { EXIT } from './exit-codes.ts';

export interface PanelApiOptions {
  url: string;
  key: string;
  /** Per-request timeout; the CLI never hangs on a silent panel. */
  timeoutMs?: number;
}

export interface CreateBackupInput {
  name?: string;
  ignored?: string[];
  locked?: boolean;
}

export interface ActivityEntry {
  event: string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

/** Status and parsed error of a refused request, kept so callers can branch on them. */
export class PanelApiError extends CliError {
  readonly status: number;
  readonly code: string | undefined;
  constructor(message: string, status: number, code: string | undefined) {
    super(message, EXIT.error);
    this.status = status;
    this.code = code;
  }
}

export class PanelApi {
  readonly baseUrl: string;
  readonly #key: string;
  readonly #timeoutMs: number;

  constructor(opts: PanelApiOptions) {
    this.baseUrl = opts.url.replace(/\/+$/, '');
    this.#key = opts.key;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async listBackups(server: string): Promise<{ backups: BackupAttributes[]; backupCount: number }> {
    const backups: BackupAttributes[] = [];
    let backupCount = 0;
    // The panel caps per_page at 50; a server with more backups than that spans several pages.
    for (let page = 1; ; page++) {
      const list = await this.#json<BackupList>('GET', `${this.#server(server)}/backups?per_page=50&page=${page}`);
      backups.push(...list.data.map((b) => b.attributes));
      backupCount = list.meta.backup_count;
      if (page >= list.meta.pagination.total_pages || list.data.length === 0) break;
    }
    return { backups, backupCount };
  }

  async getBackup(server: string, backup: string): Promise<BackupAttributes> {
    return (await this.#json<BackupObject>('GET', `${this.#server(server)}/backups/${enc(backup)}`)).attributes;
  }

  async createBackup(server: string, input: CreateBackupInput): Promise<BackupAttributes> {
    const body: Record<string, unknown> = {};
    if (input.name !== undefined) body.name = input.name;
    if (input.ignored && input.ignored.length > 0) body.ignored = input.ignored.join('\n');
    if (input.locked) body.is_locked = true;
    return (await this.#json<BackupObject>('POST', `${this.#server(server)}/backups`, body)).attributes;
  }

  /** The panel's route toggles; this reads first so `lock` and `unlock` are idempotent. */
  async setLocked(server: string, backup: string, locked: boolean): Promise<BackupAttributes> {
    const current = await this.getBackup(server, backup);
    if (current.is_locked === locked) return current;
    return (await this.#json<BackupObject>('POST', `${this.#server(server)}/backups/${enc(backup)}/lock`)).attributes;
  }

  /** `only`: backwing extension, restore just these paths (never truncating). */
  async restoreBackup(server: string, backup: string, truncate: boolean, only?: { paths: string[]; keepNewer: boolean }): Promise<void> {
    const body = only ? { truncate: false, paths: only.paths, keep_newer: only.keepNewer } : { truncate };
    await this.#json<unknown>('POST', `${this.#server(server)}/backups/${enc(backup)}/restore`, body);
  }

  /** backwing extension: a folder of a backup (or a name search), one page; status "building" while its index is made. */
  async backupFiles(server: string, backup: string, q: { path?: string; pattern?: string; page?: number; perPage?: number }): Promise<BackupFileListResponse> {
    const query = new URLSearchParams();
    if (q.pattern !== undefined) query.set('pattern', q.pattern);
    else query.set('path', q.path ?? '');
    if (q.page) query.set('page', String(q.page));
    if (q.perPage) query.set('per_page', String(q.perPage));
    const sub = q.pattern !== undefined ? 'files/search' : 'files';
    return this.#json<BackupFileListResponse>('GET', `${this.#server(server)}/backups/${enc(backup)}/${sub}?${query}`);
  }

  /** backwing extension: what changed from `backup` to `other`, one page. */
  async compareBackups(server: string, backup: string, other: string, page = 1, perPage = 100): Promise<BackupComparisonObject['attributes']> {
    const query = new URLSearchParams({ with: other, page: String(page), per_page: String(perPage) });
    return (await this.#json<BackupComparisonObject>('GET', `${this.#server(server)}/backups/${enc(backup)}/compare?${query}`)).attributes;
  }

  /** backwing extension: a one-time link to one file (raw) or folder (.tar.gz) of a backup. */
  async fileUrl(server: string, backup: string, path: string): Promise<string> {
    return (await this.#json<SignedUrl>('GET', `${this.#server(server)}/backups/${enc(backup)}/files/download?${new URLSearchParams({ path })}`)).attributes.url;
  }

  async deleteBackup(server: string, backup: string): Promise<void> {
    await this.#json<unknown>('DELETE', `${this.#server(server)}/backups/${enc(backup)}`);
  }

  /** backwing extension: stops a running backup (needs backup.delete). */
  async cancelBackup(server: string, backup: string): Promise<void> {
    await this.#json<unknown>('POST', `${this.#server(server)}/backups/${enc(backup)}/cancel`);
  }

  /**
   * backwing extension: the node reads the backup back now (needs backup.read); answers with the
   * backup and its `verification` once done, so it may take as long as reading the archive.
   */
  async verifyBackup(server: string, backup: string): Promise<BackupAttributes> {
    return (await this.#json<BackupObject>('POST', `${this.#server(server)}/backups/${enc(backup)}/verify`, undefined, VERIFY_TIMEOUT_MS)).attributes;
  }

  /** backwing extension: stops the server's running restore (needs backup.restore). */
  async cancelRestore(server: string): Promise<void> {
    await this.#json<unknown>('POST', `${this.#server(server)}/restore/cancel`);
  }

  async downloadUrl(server: string, backup: string): Promise<string> {
    return (await this.#json<SignedUrl>('GET', `${this.#server(server)}/backups/${enc(backup)}/download`)).attributes.url;
  }

  async getServer(server: string): Promise<ServerObject> {
    return this.#json<ServerObject>('GET', this.#server(server));
  }

  async websocketCredentials(server: string): Promise<WebsocketCredentials['data']> {
    return (await this.#json<WebsocketCredentials>('GET', `${this.#server(server)}/websocket`)).data;
  }

  /** Newest first; used to learn a restore's outcome when the websocket was not available. */
  async activity(server: string): Promise<ActivityEntry[]> {
    const res = await this.#json<{ data?: Array<{ attributes?: ActivityEntry }> }>('GET', `${this.#server(server)}/activity?per_page=25`);
    return (res.data ?? []).map((d) => d.attributes).filter((a): a is ActivityEntry => a !== undefined && typeof a.event === 'string');
  }

  #server(server: string): string {
    return `/api/client/servers/${enc(server)}`;
  }

  async #json<T>(method: string, path: string, body?: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.#key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new CliError(`cannot reach the panel at ${this.baseUrl}: ${networkReason(err)}`);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text, method, path, res.headers.get('retry-after'));
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the panel answered ${method} ${path} with something that is not JSON (HTTP ${res.status})`);
    }
  }
}

/** fetch gives up on response headers after 300 s anyway; a longer verification keeps running on the panel. */
const VERIFY_TIMEOUT_MS = 295_000;

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** Turns `{errors:[{code, detail}]}` (the panel's one error shape) into a one-line reason. */
export function errorFromResponse(status: number, text: string, method: string, path: string, retryAfter?: string | null): PanelApiError {
  let code: string | undefined;
  let detail: string | undefined;
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; detail?: string }> };
    const first = parsed.errors?.[0];
    code = first?.code;
    detail = parsed.errors?.map((e) => e.detail).filter(Boolean).join('; ') || undefined;
  } catch {
    // not JSON: fall through to the generic wording below
  }
  const wait = parseRetryAfter(retryAfter, Date.now());
  const hint = status === 401 ? ' (check --key / BACKWING_API_KEY)' : wait !== null ? ` ${tryAgainSentence(wait)}` : '';
  const reason = detail ?? `HTTP ${status} for ${method} ${path.split('?')[0]}`;
  return new PanelApiError(`${reason}${code ? ` [${code}]` : ''}${hint}`.replace(/\s*\n\s*/g, ' '), status, code);
}

export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
