/**
 * Panel configuration: read once from the environment (and optionally a Laravel-style .env file),
 * validated, frozen. Variable names are upstream Pterodactyl's so an existing .env carries over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/app-error.ts';
import { parseAppKey } from '../core/secret-box.ts';
import type { BackupAdapterName } from '../wire/daemon-api.ts';
import type { PanelS3Config } from './storage/s3-backup-store.ts';

export type { PanelS3Config };

export interface PanelConfig {
  databaseUrl: string;
  /** Public base URL of the panel (JWT `iss`, pagination links). No trailing slash. */
  appUrl: string;
  host: string;
  port: number;
  /** APP_BACKUP_DRIVER: imported once as the default destination (docs/destinations.md). */
  backupDriver: BackupAdapterName;
  /** AWS_*: imported once as the default destination when it is S3. */
  s3?: PanelS3Config;
  /** BACKUP_MAX_PART_SIZE: the first part size of a destination that sets none (parts grow from it). */
  defaultPartSize: number;
  /** BACKUP_PRESIGNED_URL_LIFESPAN in minutes, for every S3 destination. */
  presignedUrlLifespanMinutes: number;
  throttle: { limit: number; periodSeconds: number };
  /** Minutes after which an unfinished backup is marked failed; 0 disables. */
  pruneAgeMinutes: number;
  /** How often the prune timer runs. */
  pruneIntervalSeconds: number;
  /** How often the reconciler compares every node with the database (issue 12); 0 disables the timer. */
  reconcileIntervalSeconds: number;
  /** How old an intent must be before the reconciler acts on it (at most 120 s). */
  reconcileGraceSeconds: number;
  /** Built web UI; served at `/` when the directory exists. */
  webDistDir?: string;
  /** Lifetime of a browser session. */
  sessionTtlSeconds: number;
  /** Secure flag on session cookies (on when APP_URL is https). */
  secureCookies: boolean;
  /** Client API requests per user per minute (upstream APP_API_CLIENT_RATELIMIT); 0 disables. */
  clientRateLimitPerMinute: number;
  /** Rendered client API backup list pages kept in memory (http/backup-list-cache.ts); 0 = none kept. */
  backupListCacheEntries: number;
  /** Failed sign-ins per IP address and email within 5 minutes before /auth/login answers 429. */
  loginAttemptLimit: number;
  /** Job notifications (docs/notifications.md). */
  notify: NotifyConfig;
  /** restic repository upkeep (docs/restic.md); absent = the defaults of RESTIC_DEFAULTS. */
  restic?: ResticMaintenanceConfig;
  /**
   * `APP_KEY`: seals stored secrets (node tokens, webhook secrets, destination credentials). Unset:
   * a SQLite panel keeps a generated key beside its database file; PostgreSQL refuses to start
   * (see src/panel/app-key.ts and docs/production-topology.md).
   */
  appKey?: Buffer;
  /** `APP_PREVIOUS_KEYS`: older keys that still open what they sealed (during a rotation). */
  previousAppKeys: Buffer[];
  /** `TRUSTED_PROXIES` (upstream's name): addresses/CIDRs whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  /** Backup verification (docs/verification.md). */
  verify: VerifyConfig;
}

export interface VerifyConfig {
  /** After every S3 backup, read the whole object back through the node (costs egress); else HEAD for its size only. */
  s3ReadBack: boolean;
  /** Every successful backup is re-verified when its last verification is older than this; 0 = no schedule. */
  intervalDays: number;
  /** Bytes per second a scheduled verification reads at most (0 = the node's own limit). */
  readLimit: number;
  /** How often the schedule looks for due backups. */
  checkIntervalSeconds: number;
  /** The panel's wait for one verification on a node. */
  timeoutSeconds: number;
}

export interface ResticMaintenanceConfig {
  /** How often the panel looks whether a prune or check is due; 0 = never (no upkeep). */
  intervalSeconds: number;
  /** Prune once this many snapshots were forgotten since the last prune… */
  pruneAfterForgotten: number;
  /** …or, with any forgotten at all, once this many hours passed (nightly by default). */
  pruneEveryHours: number;
  /** `restic check --read-data-subset` every this many hours per repository. */
  checkEveryHours: number;
  checkSubset: string;
}

export const RESTIC_DEFAULTS: ResticMaintenanceConfig = { intervalSeconds: 600, pruneAfterForgotten: 20, pruneEveryHours: 24, checkEveryHours: 24, checkSubset: '5%' };

export type NotifyFormat = 'generic' | 'discord';

export interface NotifyConfig {
  /** Panel-wide (admin) webhooks: every server's job events go to each. */
  webhookUrls: string[];
  /** Signs panel webhook bodies (HMAC-SHA256); unsigned when unset. */
  webhookSecret?: string;
  webhookFormat: NotifyFormat;
  /** smtp:// or smtps:// URL (credentials in the URL); e-mail is off when unset. */
  smtpUrl?: string;
  emailTo: string[];
  emailFrom: string;
  /** How often the queue is drained. */
  drainIntervalMs: number;
  /** Attempts before a delivery is recorded as failed. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, capped at one hour. */
  retryBaseSeconds: number;
  /** Per-request timeout of a webhook call or an SMTP send. */
  timeoutSeconds: number;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_WEB_DIST_DIR = resolve(REPO_ROOT, 'src/web/dist');
/** Upstream uses 5 GiB parts; a daemon that spools one part at a time would need 5 GiB of disk. */
export const DEFAULT_MAX_PART_SIZE = 100 * 1024 * 1024;

function configError(name: string, message: string): AppError {
  return new AppError('E_CONFIG', 500, `invalid configuration: ${name} ${message}`);
}

function readInt(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  if (!/^-?\d+$/.test(raw.trim())) throw configError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n) || n < min) throw configError(name, `must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function readBool(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw configError(name, `must be true or false, got "${raw}"`);
}

function readResticConfig(env: NodeJS.ProcessEnv): ResticMaintenanceConfig {
  const subset = readStr(env, 'RESTIC_CHECK_SUBSET') ?? RESTIC_DEFAULTS.checkSubset;
  if (!/^(\d{1,3}(\.\d+)?%|\d+\/\d+|\d+[KMGT]?)$/.test(subset)) throw configError('RESTIC_CHECK_SUBSET', `must be restic's --read-data-subset (e.g. 5% or 1/7 or 500M), got "${subset}"`);
  return {
    intervalSeconds: readInt(env, 'RESTIC_MAINTENANCE_INTERVAL', RESTIC_DEFAULTS.intervalSeconds, 0),
    pruneAfterForgotten: readInt(env, 'RESTIC_PRUNE_AFTER_FORGOTTEN', RESTIC_DEFAULTS.pruneAfterForgotten, 1),
    pruneEveryHours: readInt(env, 'RESTIC_PRUNE_EVERY_HOURS', RESTIC_DEFAULTS.pruneEveryHours, 1),
    checkEveryHours: readInt(env, 'RESTIC_CHECK_EVERY_HOURS', RESTIC_DEFAULTS.checkEveryHours, 1),
    checkSubset: subset,
  };
}

function readStr(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const v = raw.trim();
  return v === '' ? undefined : v;
}

function readHttpUrl(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw;
  } catch { /* fall through */ }
  throw configError(name, `must list http(s) URLs, got "${raw}"`);
}

function readList(env: NodeJS.ProcessEnv, name: string): string[] {
  return (readStr(env, name) ?? '').split(/[\s,]+/).filter((v) => v !== '');
}

function readNotifyConfig(env: NodeJS.ProcessEnv, appUrl: string): NotifyConfig {
  const webhookUrls = readList(env, 'NOTIFY_WEBHOOK_URLS').map((u) => readHttpUrl('NOTIFY_WEBHOOK_URLS', u));
  const format = (readStr(env, 'NOTIFY_WEBHOOK_FORMAT') ?? 'generic').toLowerCase();
  if (format !== 'generic' && format !== 'discord') throw configError('NOTIFY_WEBHOOK_FORMAT', `must be generic or discord, got "${format}"`);
  const smtpUrl = readStr(env, 'SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) throw configError('SMTP_URL', 'must be an smtp:// or smtps:// URL');
  const emailTo = readList(env, 'NOTIFY_EMAIL_TO');
  if (smtpUrl !== undefined && emailTo.length === 0) throw configError('NOTIFY_EMAIL_TO', 'is required when SMTP_URL is set');
  for (const a of emailTo) if (!/^[^\s@]+@[^\s@]+$/.test(a)) throw configError('NOTIFY_EMAIL_TO', `must list e-mail addresses, got "${a}"`);
  return {
    webhookUrls,
    webhookSecret: readStr(env, 'NOTIFY_WEBHOOK_SECRET'),
    webhookFormat: format,
    smtpUrl,
    emailTo,
    emailFrom: readStr(env, 'NOTIFY_EMAIL_FROM') ?? `backwing@${new URL(appUrl).hostname.replace(/^\[|\]$/g, '') || 'localhost'}`,
    drainIntervalMs: readInt(env, 'NOTIFY_DRAIN_INTERVAL_MS', 5000, 10),
    maxAttempts: readInt(env, 'NOTIFY_MAX_ATTEMPTS', 8, 1),
    retryBaseSeconds: readInt(env, 'NOTIFY_RETRY_BASE_SECONDS', 30, 0),
    timeoutSeconds: readInt(env, 'NOTIFY_TIMEOUT_SECONDS', 10, 1),
  };
}

function readTrustedProxies(env: NodeJS.ProcessEnv): string[] {
  const list = readList(env, 'TRUSTED_PROXIES');
  for (const p of list) {
    // IPv4/IPv6 address with an optional prefix length; names are not resolved.
    if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i.test(p)) throw configError('TRUSTED_PROXIES', `must list IP addresses or CIDR ranges, got "${p}"`);
  }
  return list;
}

function readAppKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  const raw = readStr(env, 'APP_KEY');
  return raw === undefined ? undefined : parseAppKey(raw);
}

export function loadPanelConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<PanelConfig> = {}): PanelConfig {
  const databaseUrl = readStr(env, 'DATABASE_URL') ?? 'sqlite:./data/panel.sqlite';
  if (!/^sqlite:/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw configError('DATABASE_URL', `must start with sqlite: or postgres://, got "${databaseUrl}"`);
  }
  const host = readStr(env, 'PANEL_HOST') ?? '127.0.0.1';
  const port = readInt(env, 'PANEL_PORT', 8000, 0);
  if (port > 65535) throw configError('PANEL_PORT', `must be <= 65535, got "${port}"`);
  const appUrlRaw = readStr(env, 'APP_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let appUrl: string;
  try {
    const u = new URL(appUrlRaw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    appUrl = appUrlRaw.replace(/\/+$/, '');
  } catch {
    throw configError('APP_URL', `must be an http(s) URL, got "${appUrlRaw}"`);
  }
  const driver = (readStr(env, 'APP_BACKUP_DRIVER') ?? 'wings').toLowerCase();
  if (driver !== 'wings' && driver !== 's3') throw configError('APP_BACKUP_DRIVER', `must be wings or s3, got "${driver}"`);

  let maxPartSize = readInt(env, 'BACKUP_MAX_PART_SIZE', DEFAULT_MAX_PART_SIZE, 0);
  // Upstream treats <=0 as "use the default" rather than an error.
  if (maxPartSize <= 0) maxPartSize = DEFAULT_MAX_PART_SIZE;
  if (maxPartSize < 5 * 1024 * 1024) throw configError('BACKUP_MAX_PART_SIZE', `must be at least 5242880 (S3's minimum part size), got "${maxPartSize}"`);

  const bucket = readStr(env, 'AWS_BACKUPS_BUCKET');
  let s3: PanelS3Config | undefined;
  if (bucket !== undefined || driver === 's3') {
    if (bucket === undefined) throw configError('AWS_BACKUPS_BUCKET', 'is required when APP_BACKUP_DRIVER=s3');
    const endpoint = readStr(env, 'AWS_ENDPOINT');
    if (endpoint !== undefined) {
      try { new URL(endpoint); } catch { throw configError('AWS_ENDPOINT', `must be a URL, got "${endpoint}"`); }
    }
    s3 = {
      bucket,
      region: readStr(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
      endpoint,
      accessKeyId: readStr(env, 'AWS_ACCESS_KEY_ID'),
      secretAccessKey: readStr(env, 'AWS_SECRET_ACCESS_KEY'),
      forcePathStyle: readBool(env, 'AWS_USE_PATH_STYLE_ENDPOINT', false),
      maxPartSize,
      presignedUrlLifespanMinutes: readInt(env, 'BACKUP_PRESIGNED_URL_LIFESPAN', 60, 1),
      storageClass: readStr(env, 'AWS_BACKUPS_STORAGE_CLASS'),
    };
  }

  const webDir = readStr(env, 'PANEL_WEB_DIST');
  const config: PanelConfig = {
    databaseUrl,
    appUrl,
    host,
    port,
    backupDriver: driver,
    s3,
    defaultPartSize: maxPartSize,
    presignedUrlLifespanMinutes: readInt(env, 'BACKUP_PRESIGNED_URL_LIFESPAN', 60, 1),
    throttle: {
      limit: readInt(env, 'BACKUP_THROTTLE_LIMIT', 2, 0),
      periodSeconds: readInt(env, 'BACKUP_THROTTLE_PERIOD', 600, 0),
    },
    pruneAgeMinutes: readInt(env, 'BACKUP_PRUNE_AGE', 360, 0),
    pruneIntervalSeconds: readInt(env, 'BACKUP_PRUNE_INTERVAL', 300, 1),
    reconcileIntervalSeconds: readInt(env, 'RECONCILE_INTERVAL', 60, 0),
    reconcileGraceSeconds: readInt(env, 'RECONCILE_GRACE', 90, 0),
    webDistDir: webDir ?? DEFAULT_WEB_DIST_DIR,
    sessionTtlSeconds: readInt(env, 'SESSION_LIFETIME_SECONDS', 7 * 24 * 3600, 60),
    secureCookies: appUrl.startsWith('https:'),
    clientRateLimitPerMinute: readInt(env, 'APP_API_CLIENT_RATELIMIT', 720, 0),
    backupListCacheEntries: readInt(env, 'BACKUP_LIST_CACHE_ENTRIES', 4096, 0),
    loginAttemptLimit: readInt(env, 'LOGIN_ATTEMPT_LIMIT', 5, 1),
    notify: readNotifyConfig(env, appUrl),
    verify: {
      s3ReadBack: readBool(env, 'BACKUP_VERIFY_S3_READ_BACK', false),
      intervalDays: readInt(env, 'BACKUP_VERIFY_INTERVAL_DAYS', 7, 0),
      readLimit: readInt(env, 'BACKUP_VERIFY_READ_LIMIT', 25 * 1024 * 1024, 0),
      checkIntervalSeconds: readInt(env, 'BACKUP_VERIFY_CHECK_INTERVAL', 300, 1),
      timeoutSeconds: readInt(env, 'BACKUP_VERIFY_TIMEOUT', 3600, 1),
    },
    appKey: readAppKey(env),
    previousAppKeys: readList(env, 'APP_PREVIOUS_KEYS').map((k, i) => parseAppKey(k, `APP_PREVIOUS_KEYS (key ${i + 1})`)),
    trustedProxies: readTrustedProxies(env),
    restic: readResticConfig(env),
    ...overrides,
  };
  if (config.reconcileGraceSeconds > 120) throw configError('RECONCILE_GRACE', `must be at most 120 seconds, got "${config.reconcileGraceSeconds}"`);
  if (config.backupDriver === 's3' && !config.s3) throw configError('AWS_BACKUPS_BUCKET', 'is required when APP_BACKUP_DRIVER=s3');
  return Object.freeze(config);
}

/**
 * Reads KEY=VALUE lines (Laravel .env style: `#` comments, optional `export `, single or double
 * quotes) into a new env object layered over `base`. Values already set in `base` win, as Laravel's
 * immutable dotenv does, so an explicit environment variable overrides the file.
 */
export function loadEnvFile(path: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!existsSync(path)) throw new AppError('E_CONFIG', 500, `invalid configuration: config file ${path} does not exist`);
  const out: NodeJS.ProcessEnv = {};
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(t);
    if (!m) throw new AppError('E_CONFIG', 500, `invalid configuration: ${path}:${i + 1} is not KEY=VALUE`);
    let value = m[2]!;
    if ((value.startsWith('"') && value.endsWith('"') && value.length >= 2) || (value.startsWith("'") && value.endsWith("'") && value.length >= 2)) {
      const quote = value[0];
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[m[1]!] = value;
  });
  return { ...out, ...base };
}
