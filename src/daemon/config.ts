/**
 * Daemon configuration: one YAML file with Wings' keys where Wings has them. Read and validated
 * once at start; the result is frozen and handed to the parts that need it. Every default lives in
 * DAEMON_DEFAULTS so the README table and the code cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Secret } from '../core/secret.ts';
import { daemonErrors } from './errors.ts';
import { parseControlConfig, type ControlConfig } from './control/control-config.ts';

export type ChecksumAlgorithm = 'sha256' | 'sha1';

/**
 * Where local archives live: Pterodactyl Wings' flat `<backup_directory>/<uuid>.tar.gz`, or
 * Pelican Wings' `<backup_directory>/<server uuid>/<uuid>.tar.gz`.
 */
export type BackupLayout = 'flat' | 'per-server';

/** Set when the daemon runs as a sidecar beside Wings (`backwing daemon --wings-config`). */
export interface WingsSidecarConfig {
  /** The Wings config file everything was read from. */
  readonly configPath: string;
  readonly flavor: 'pterodactyl' | 'pelican';
  /** Wings' own API (state, power, commands) and the node token it accepts (`Bearer <token>`). */
  readonly api: { readonly url: string; readonly token: Secret };
  /** backwing's control file (`--control-config`), when the `control:` settings came from it. */
  readonly controlPath?: string;
}

export interface DaemonConfig {
  readonly uuid: string;
  readonly tokenId: string;
  readonly token: Secret;
  readonly api: { readonly host: string; readonly port: number };
  readonly remote: string;
  readonly system: {
    readonly backupLayout: BackupLayout;
    readonly rootDirectory: string;
    readonly stateDirectory: string;
    readonly data: string;
    readonly backupDirectory: string;
    /** Wings' `system.user`: restored files are given this owner. null = the daemon's own ids. */
    readonly user: { readonly uid: number; readonly gid: number } | null;
    readonly backups: {
      /** Bytes per second; 0 = unlimited. */
      readonly writeLimit: number;
      readonly compressionLevel: number;
      readonly checksum: ChecksumAlgorithm;
      readonly restoreHostAllowlist: readonly string[];
      readonly s3PartConcurrency: number;
      /** Bytes; parts are cut at min(panel part_size, this) when streaming to S3. */
      readonly s3MaxPartSize: number;
      /** Longest silence allowed from a restore download before it is failed. */
      readonly restoreIdleTimeoutMs: number;
      /** Bytes per second a verification reads at most; 0 = unlimited (issue 17). */
      readonly verifyReadLimit: number;
      /** backwing: the restic binary for `restic` jobs (docs/restic.md). */
      readonly resticBinary: string;
    };
  };
  readonly remoteQuery: { readonly timeoutMs: number };
  /** port null = /metrics is served on the API listener; otherwise only on this separate one. */
  readonly metrics: { readonly host: string; readonly port: number | null };
  readonly allowedOrigins: readonly string[];
  /** Server control and save hooks (docs/server-control.md). */
  readonly control: ControlConfig;
  /**
   * Who reads our reports. 'upstream' (a Pterodactyl or Pelican panel): reports carry Wings'
   * fields only, and no `/servers/reset` is sent at start (it would also clear Wings' installs).
   */
  readonly panelKind: 'backwing' | 'upstream';
  readonly wings: WingsSidecarConfig | null;
  /** Where the config came from, for error messages. */
  readonly source: string;
}

export const DAEMON_DEFAULTS = {
  'api.host': '0.0.0.0',
  'api.port': 8080,
  'system.root_directory': '/var/lib/pterodactyl',
  'system.data': '/var/lib/pterodactyl/volumes',
  'system.backup_directory': '/var/lib/pterodactyl/backups',
  'system.backups.write_limit': 0,
  'system.backups.compression_level': 'best_speed',
  'system.backups.checksum': 'sha256',
  'system.backups.restore_host_allowlist': [] as string[],
  'system.backups.s3_part_concurrency': 3,
  'system.backups.s3_max_part_size': 64,
  'system.backups.restore_idle_timeout': 60,
  'system.backups.verify_read_limit': 0,
  'system.backups.restic_binary': 'restic',
  'remote_query.timeout': 30,
  allowed_origins: [] as string[],
  'metrics.host': '127.0.0.1',
  'metrics.port': null,
} as const;

const MIB = 1024 * 1024;

export class ConfigReader {
  constructor(private readonly doc: Record<string, unknown>, private readonly source: string) {}

  fail(key: string, problem: string): never {
    throw daemonErrors.config(`${this.source}: ${key} ${problem}`);
  }

  /** The whole document (a mapping), for a file whose every key must be known. */
  root(): Readonly<Record<string, unknown>> {
    return this.doc;
  }

  raw(key: string): unknown {
    let node: unknown = this.doc;
    for (const part of key.split('.')) {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return node;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null || v === '') {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is required');
    }
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    return v;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a number');
    if (v < min || v > max) this.fail(key, `must be between ${min} and ${max}`);
    return v;
  }

  stringList(key: string): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) this.fail(key, 'must be a list of non-empty strings');
    return (v as string[]).map((x) => x.trim());
  }
}

/** `system.user.uid/gid`: both or neither, non-negative integers. */
export function gameUser(r: ConfigReader): { uid: number; gid: number } | null {
  const uid = r.raw('system.user.uid');
  const gid = r.raw('system.user.gid');
  if ((uid === undefined || uid === null) && (gid === undefined || gid === null)) return null;
  for (const [key, v] of [['system.user.uid', uid], ['system.user.gid', gid]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) r.fail(key, 'must be a non-negative integer');
  }
  return { uid: uid as number, gid: gid as number };
}

function compressionLevel(r: ConfigReader): number {
  const key = 'system.backups.compression_level';
  const v = r.raw(key) ?? DAEMON_DEFAULTS[key];
  if (v === 'none') return 0;
  if (v === 'best_speed') return 1;
  if (v === 'best_compression') return 9;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 9) return v;
  if (typeof v === 'string' && /^[0-9]$/.test(v)) return Number(v);
  // Wings silently maps typos to best_speed; a typo here is more likely a mistake worth reporting.
  return r.fail(key, 'must be none, best_speed, best_compression or 0-9');
}

export function validateAllowlistEntry(r: ConfigReader, entry: string): void {
  const key = 'system.backups.restore_host_allowlist';
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const ip = entry.slice(0, slash);
    const bits = Number(entry.slice(slash + 1));
    const family = isIP(ip);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) r.fail(key, `has an invalid CIDR "${entry}"`);
    return;
  }
  if (isIP(entry) === 0 && !/^[a-z0-9.-]+$/i.test(entry)) r.fail(key, `has an invalid host "${entry}"`);
}

/** A reader over a YAML mapping; anything else is one config error line. */
export function yamlConfigReader(text: string, source: string): ConfigReader {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw daemonErrors.config(`${source}: not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw daemonErrors.config(`${source}: must be a YAML mapping`);
  return new ConfigReader(doc as Record<string, unknown>, source);
}

export function parseDaemonConfig(text: string, source: string): DaemonConfig {
  const r = yamlConfigReader(text, source);

  const uuid = r.string('uuid');
  const tokenId = r.string('token_id');
  const token = r.string('token');
  if (token.length < 16) r.fail('token', 'must be at least 16 characters');
  const remote = r.string('remote');
  let remoteUrl: URL;
  try {
    remoteUrl = new URL(remote);
  } catch {
    return r.fail('remote', 'must be an http(s) URL');
  }
  if (remoteUrl.protocol !== 'http:' && remoteUrl.protocol !== 'https:') r.fail('remote', 'must be an http(s) URL');

  const rootDirectory = r.string('system.root_directory', DAEMON_DEFAULTS['system.root_directory']);
  const checksum = r.string('system.backups.checksum', DAEMON_DEFAULTS['system.backups.checksum']);
  if (checksum !== 'sha256' && checksum !== 'sha1') r.fail('system.backups.checksum', 'must be sha256 or sha1');
  const allowlist = r.stringList('system.backups.restore_host_allowlist');
  for (const entry of allowlist) validateAllowlistEntry(r, entry);
  const origins = r.stringList('allowed_origins');

  const config: DaemonConfig = {
    uuid,
    tokenId,
    token: new Secret(token),
    api: {
      host: r.string('api.host', DAEMON_DEFAULTS['api.host']),
      port: r.number('api.port', DAEMON_DEFAULTS['api.port'], 0, 65535),
    },
    remote: remote.replace(/\/+$/, ''),
    system: {
      backupLayout: 'flat',
      rootDirectory,
      stateDirectory: join(rootDirectory, 'state'),
      data: r.string('system.data', DAEMON_DEFAULTS['system.data']),
      backupDirectory: r.string('system.backup_directory', DAEMON_DEFAULTS['system.backup_directory']),
      user: gameUser(r),
      backups: {
        // Wings treats values below 1 MiB/s as unlimited; so do we.
        writeLimit: Math.floor(r.number('system.backups.write_limit', DAEMON_DEFAULTS['system.backups.write_limit'], 0, 1_000_000)) * MIB,
        compressionLevel: compressionLevel(r),
        checksum: checksum as ChecksumAlgorithm,
        restoreHostAllowlist: allowlist,
        s3PartConcurrency: r.number('system.backups.s3_part_concurrency', DAEMON_DEFAULTS['system.backups.s3_part_concurrency'], 1, 64),
        s3MaxPartSize: r.number('system.backups.s3_max_part_size', DAEMON_DEFAULTS['system.backups.s3_max_part_size'], 5, 5 * 1024) * MIB,
        restoreIdleTimeoutMs: r.number('system.backups.restore_idle_timeout', DAEMON_DEFAULTS['system.backups.restore_idle_timeout'], 1, 86_400) * 1000,
        // MiB/s like write_limit; scheduled verifications may ask for less (the panel's read limit).
        verifyReadLimit: Math.floor(r.number('system.backups.verify_read_limit', DAEMON_DEFAULTS['system.backups.verify_read_limit'], 0, 1_000_000)) * MIB,
        resticBinary: r.string('system.backups.restic_binary', DAEMON_DEFAULTS['system.backups.restic_binary']),
      },
    },
    remoteQuery: { timeoutMs: r.number('remote_query.timeout', DAEMON_DEFAULTS['remote_query.timeout'], 1, 3600) * 1000 },
    metrics: {
      host: r.string('metrics.host', DAEMON_DEFAULTS['metrics.host']),
      port: r.raw('metrics.port') === undefined || r.raw('metrics.port') === null ? null : r.number('metrics.port', 0, 0, 65535),
    },
    allowedOrigins: origins,
    control: parseControlConfig(r),
    panelKind: 'backwing',
    wings: null,
    source,
  };
  if (!Number.isInteger(config.api.port)) r.fail('api.port', 'must be an integer');
  if (config.metrics.port !== null && !Number.isInteger(config.metrics.port)) r.fail('metrics.port', 'must be an integer');
  if (!Number.isInteger(config.system.backups.s3PartConcurrency)) r.fail('system.backups.s3_part_concurrency', 'must be an integer');
  return Object.freeze(config);
}

export function loadDaemonConfig(path: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw daemonErrors.config(`${path}: cannot read the config file (${code ?? 'error'})`);
  }
  return parseDaemonConfig(text, path);
}

export interface DaemonConfigValues {
  uuid: string;
  tokenId: string;
  token: string;
  remote: string;
  apiHost?: string;
  apiPort?: number;
  rootDirectory?: string;
  dataDirectory?: string;
  backupDirectory?: string;
  writeLimitMiB?: number;
  compressionLevel?: string | number;
  checksum?: ChecksumAlgorithm;
  restoreHostAllowlist?: string[];
  s3PartConcurrency?: number;
  remoteQueryTimeout?: number;
  allowedOrigins?: string[];
}

/** YAML for a node, as `backwing admin node create` prints it. Omitted values keep their defaults. */
export function renderDaemonConfig(values: DaemonConfigValues): string {
  const backups: Record<string, unknown> = {
    write_limit: values.writeLimitMiB ?? DAEMON_DEFAULTS['system.backups.write_limit'],
    compression_level: values.compressionLevel ?? DAEMON_DEFAULTS['system.backups.compression_level'],
    checksum: values.checksum ?? DAEMON_DEFAULTS['system.backups.checksum'],
    restore_host_allowlist: values.restoreHostAllowlist ?? [],
    s3_part_concurrency: values.s3PartConcurrency ?? DAEMON_DEFAULTS['system.backups.s3_part_concurrency'],
  };
  const doc = {
    uuid: values.uuid,
    token_id: values.tokenId,
    token: values.token,
    api: { host: values.apiHost ?? DAEMON_DEFAULTS['api.host'], port: values.apiPort ?? DAEMON_DEFAULTS['api.port'] },
    remote: values.remote,
    system: {
      root_directory: values.rootDirectory ?? DAEMON_DEFAULTS['system.root_directory'],
      data: values.dataDirectory ?? DAEMON_DEFAULTS['system.data'],
      backup_directory: values.backupDirectory ?? DAEMON_DEFAULTS['system.backup_directory'],
      backups,
    },
    remote_query: { timeout: values.remoteQueryTimeout ?? DAEMON_DEFAULTS['remote_query.timeout'] },
    allowed_origins: values.allowedOrigins ?? [],
  };
  return stringify(doc);
}
