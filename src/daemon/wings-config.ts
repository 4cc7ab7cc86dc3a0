/**
 * The sidecar's configuration, read from Wings' own config.yml (Pterodactyl or Pelican), so a node
 * that switches to backwing has nothing else to configure: the node uuid and token, the panel URL,
 * the data and backup directories, the game user, the backup limits and Wings' own listen address
 * all come from the file Wings already uses. Keys backwing does not need are ignored (Wings'
 * file has many); a key it needs with a value it cannot use is one error line naming the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Secret } from '../core/secret.ts';
import { daemonErrors } from './errors.ts';
import { parseControlConfig, type ControlConfig, type WingsApi } from './control/control-config.ts';
import { ConfigReader, DAEMON_DEFAULTS, yamlConfigReader, gameUser, validateAllowlistEntry, type BackupLayout, type DaemonConfig } from './config.ts';

export const WINGS_CONFIG_PATHS = { pterodactyl: '/etc/pterodactyl/config.yml', pelican: '/etc/pelican/config.yml' } as const;

/** backwing's own file for the sidecar's `control:` section (Wings rewrites its config.yml at boot, dropping it). */
export const CONTROL_CONFIG_PATH = '/etc/backwing/control.yml';

type Flavor = 'pterodactyl' | 'pelican';

const FLAVOR_ROOTS: Record<Flavor, string> = { pterodactyl: '/var/lib/pterodactyl', pelican: '/var/lib/pelican' };

/**
 * Keys only Pelican's Wings writes back into its config at boot. (Not `restore_host_allowlist`:
 * later Pterodactyl Wings has it too.) A wrong guess only moves where new archives go — reads
 * look in both layouts — and `--layout` settles it.
 */
const PELICAN_ONLY_KEYS = ['system.backups.remove_backups_on_server_delete', 'remote_query.custom_headers', 'system.user.passwd'];

const MIB = 1024 * 1024;

export interface SidecarOptions {
  /** Where the sidecar listens. Default: loopback (the proxy reaches it there), Wings' port + 1. */
  listen?: { host?: string; port?: number };
  layout?: BackupLayout;
  flavor?: Flavor;
  /** Environment for Pelican's `WINGS_TOKEN_ID`/`WINGS_TOKEN` and `${VAR}` values (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * The control file's text and path (`--control-config`, default /etc/backwing/control.yml):
   * when given, the `control:` section comes from it, not from Wings' config.
   */
  control?: { text: string; path: string };
}

/** The control file when `--control-config` is not given: /etc/backwing/control.yml if it exists, else none. */
export function defaultControlConfigPath(exists: (p: string) => boolean = existsSync): string | null {
  return exists(CONTROL_CONFIG_PATH) ? CONTROL_CONFIG_PATH : null;
}

/** Pterodactyl's path when it exists, else Pelican's when that exists, else Pterodactyl's. */
export function defaultWingsConfigPath(exists: (p: string) => boolean = existsSync): string {
  if (exists(WINGS_CONFIG_PATHS.pterodactyl)) return WINGS_CONFIG_PATHS.pterodactyl;
  if (exists(WINGS_CONFIG_PATHS.pelican)) return WINGS_CONFIG_PATHS.pelican;
  return WINGS_CONFIG_PATHS.pterodactyl;
}

/**
 * Pelican's value indirection: environment variables (`$VAR`, `${VAR}`) are expanded first, then a
 * `file://path` value is replaced by the file's content without its trailing newline — so
 * `file://${CREDENTIALS_DIRECTORY}/token` works with systemd credentials. Wings expands an unset
 * variable to nothing; here it is an error, since an empty token can only be a mistake.
 */
export function expandWingsValue(r: ConfigReader, key: string, value: string, env: NodeJS.ProcessEnv): string {
  const expanded = value.replace(/\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const v = env[name];
    if (v === undefined || v === '') r.fail(key, `uses the environment variable ${name}, which is not set`);
    return v;
  });
  if (!expanded.startsWith('file://')) return expanded;
  const path = expanded.slice('file://'.length);
  try {
    return readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
  } catch (err) {
    return r.fail(key, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The host name Wings' certificate is for: a TLS client must ask for that name, not 127.0.0.1. */
function certificateHost(r: ConfigReader): string {
  const path = r.string('api.ssl.cert');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(path));
  } catch (err) {
    return r.fail('api.ssl.cert', `cannot be read as a certificate (${(err as NodeJS.ErrnoException).code ?? 'not PEM'})`);
  }
  const dns = (cert.subjectAltName ?? '').split(',').map((s) => s.trim()).find((s) => s.startsWith('DNS:'));
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  const host = dns ? dns.slice(4) : cn;
  if (!host || host.includes('*')) return r.fail('api.ssl.cert', 'names no single host (subjectAltName DNS or CN)');
  return host;
}

function wingsApiUrl(r: ConfigReader, port: number): string {
  const host = r.string('api.host', DAEMON_DEFAULTS['api.host']);
  const ssl = r.raw('api.ssl.enabled');
  if (ssl !== undefined && ssl !== null && typeof ssl !== 'boolean') r.fail('api.ssl.enabled', 'must be true or false');
  if (ssl === true) return `https://${certificateHost(r)}:${port}`;
  // Wings on every interface is reached on loopback; on one address, on that address.
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${isIP(local) === 6 ? `[${local}]` : local}:${port}`;
}

/** The keys a control file may hold: the `control:` section of the daemon config, nothing else. */
const CONTROL_FILE_KEYS: Record<string, readonly string[]> = {
  '': ['control'],
  control: ['type', 'power', 'wings', 'rcon', 'exec', 'stop_timeout', 'start_timeout', 'save_hooks', 'servers'],
  'control.save_hooks': ['allowed', 'default', 'timeout', 'source_command'],
};

/**
 * The sidecar's control settings from backwing's own file. Unlike Wings' config (full of keys we do
 * not read), every key in this file is ours, so an unknown one is a typo worth one error line:
 * otherwise `save_hook: minecraft-java` would silently leave backups without their save hook.
 */
function parseControlFile(file: { text: string; path: string }, besideWings: WingsApi): ControlConfig {
  const r = yamlConfigReader(file.text, file.path);
  for (const [section, known] of Object.entries(CONTROL_FILE_KEYS)) {
    const node = section === '' ? r.root() : r.raw(section);
    if (node === undefined || node === null) continue;
    if (typeof node !== 'object' || Array.isArray(node)) r.fail(section, 'must be a mapping');
    for (const key of Object.keys(node)) {
      if (!known.includes(key)) r.fail(section ? `${section}.${key}` : key, `is not a control setting (known: ${known.join(', ')})`);
    }
  }
  return parseControlConfig(r, besideWings);
}

function flavorOf(r: ConfigReader, source: string): Flavor {
  if (source.startsWith('/etc/pelican/')) return 'pelican';
  return PELICAN_ONLY_KEYS.some((k) => r.raw(k) !== undefined) ? 'pelican' : 'pterodactyl';
}

function port(r: ConfigReader, key: string, fallback: number): number {
  const p = r.number(key, fallback, 1, 65535);
  if (!Number.isInteger(p)) r.fail(key, 'must be an integer');
  return p;
}

export function parseWingsConfig(text: string, source: string, opts: SidecarOptions = {}): DaemonConfig {
  const r = yamlConfigReader(text, source);
  const env = opts.env ?? process.env;
  const flavor = opts.flavor ?? flavorOf(r, source);

  // Pelican resolves the token pair from WINGS_TOKEN_ID / WINGS_TOKEN first, then the file, and
  // expands both; Pterodactyl's Wings uses the file's values literally, and so do we for it.
  const credential = (key: 'token_id' | 'token', envName: string): string => {
    if (flavor === 'pterodactyl') return r.string(key);
    const fromEnv = env[envName];
    if (fromEnv) return expandWingsValue(r, `${envName} (overriding ${key})`, fromEnv, env);
    return expandWingsValue(r, key, r.string(key), env);
  };
  const uuid = r.string('uuid');
  const tokenId = credential('token_id', 'WINGS_TOKEN_ID');
  const token = credential('token', 'WINGS_TOKEN');
  if (tokenId === '') r.fail('token_id', 'is required');
  if (token.length < 16) r.fail('token', 'must be at least 16 characters');
  const remote = r.string('remote');
  let remoteUrl: URL | null = null;
  try {
    remoteUrl = new URL(remote);
  } catch {
    // reported below
  }
  if (!remoteUrl || (remoteUrl.protocol !== 'http:' && remoteUrl.protocol !== 'https:')) r.fail('remote', 'must be an http(s) URL');

  const wingsPort = port(r, 'api.port', DAEMON_DEFAULTS['api.port']);
  const wingsUrl = wingsApiUrl(r, wingsPort);
  const listenPort = opts.listen?.port ?? wingsPort + 1;
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) r.fail('api.port', `+ 1 is not a port; choose the sidecar's with --listen`);

  const level = r.string('system.backups.compression_level', 'best_speed');
  const levels: Record<string, number> = { none: 0, best_speed: 1, best_compression: 9 };
  if (!(level in levels)) r.fail('system.backups.compression_level', 'must be none, best_speed or best_compression');
  const writeLimit = r.raw('system.backups.write_limit');
  if (writeLimit !== undefined && writeLimit !== null && (typeof writeLimit !== 'number' || !Number.isFinite(writeLimit))) r.fail('system.backups.write_limit', 'must be a number (MiB/s)');
  const allowlist = r.stringList('system.backups.restore_host_allowlist');
  for (const entry of allowlist) validateAllowlistEntry(r, entry);

  const root = r.string('system.root_directory', FLAVOR_ROOTS[flavor]);
  const besideWings: WingsApi = { url: wingsUrl, token: new Secret(token) };
  const config: DaemonConfig = {
    uuid,
    tokenId,
    token: new Secret(token),
    api: { host: opts.listen?.host ?? '127.0.0.1', port: listenPort },
    remote: remote.replace(/\/+$/, ''),
    system: {
      backupLayout: opts.layout ?? (flavor === 'pelican' ? 'per-server' : 'flat'),
      rootDirectory: root,
      // Beside Wings' own files in its root, under a name Wings does not use.
      stateDirectory: join(root, 'backwing'),
      data: r.string('system.data', `${FLAVOR_ROOTS[flavor]}/volumes`),
      backupDirectory: r.string('system.backup_directory', `${FLAVOR_ROOTS[flavor]}/backups`),
      user: gameUser(r),
      backups: {
        // Wings: below 1 MiB/s (negative included) is unlimited.
        writeLimit: typeof writeLimit === 'number' && writeLimit >= 1 ? Math.floor(writeLimit) * MIB : 0,
        compressionLevel: levels[level]!,
        // What Wings reports; the panel stores and shows `sha1:<hex>`.
        checksum: 'sha1',
        restoreHostAllowlist: allowlist,
        s3PartConcurrency: DAEMON_DEFAULTS['system.backups.s3_part_concurrency'],
        s3MaxPartSize: DAEMON_DEFAULTS['system.backups.s3_max_part_size'] * MIB,
        restoreIdleTimeoutMs: DAEMON_DEFAULTS['system.backups.restore_idle_timeout'] * 1000,
        verifyReadLimit: 0,
        resticBinary: 'restic',
      },
    },
    remoteQuery: { timeoutMs: r.number('remote_query.timeout', DAEMON_DEFAULTS['remote_query.timeout'], 1, 3600) * 1000 },
    metrics: { host: DAEMON_DEFAULTS['metrics.host'], port: null },
    allowedOrigins: r.stringList('allowed_origins'),
    panelKind: 'upstream',
    wings: { configPath: source, flavor, api: besideWings, ...(opts.control ? { controlPath: opts.control.path } : {}) },
    // Wings is right here: its API stops, starts and takes console commands (docs/server-control.md).
    // The control file, when there is one, replaces Wings' config as the source of these settings.
    control: opts.control ? parseControlFile(opts.control, besideWings) : parseControlConfig(r, besideWings),
    source,
  };
  return Object.freeze(config);
}

export function loadWingsConfig(path: string, opts: SidecarOptions = {}): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw daemonErrors.config(`${path}: cannot read the Wings config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseWingsConfig(text, path, opts);
}

/** Reads the control file for `SidecarOptions.control`; unreadable is one config error line. */
export function readControlFile(path: string): { text: string; path: string } {
  try {
    return { text: readFileSync(path, 'utf8'), path };
  } catch (err) {
    throw daemonErrors.config(`${path}: cannot read the control file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
