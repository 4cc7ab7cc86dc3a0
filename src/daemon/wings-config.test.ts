import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseWingsConfig, defaultWingsConfigPath, defaultControlConfigPath, WINGS_CONFIG_PATHS, CONTROL_CONFIG_PATH } from './wings-config.ts';
import { AppError } from '../core/app-error.ts';

const TOKEN = 'a'.repeat(64);

// What Pterodactyl's Wings writes back at boot, trimmed (unknown keys must be ignored).
const pterodactyl = `debug: false
app_name: Pterodactyl
uuid: 6f1c2a4e-0d3b-4a8e-9b7c-1d2e3f4a5b6c
token_id: Tk1dAbCdEfGh1234
token: ${TOKEN}
api:
  host: 0.0.0.0
  port: 8080
  ssl:
    enabled: false
    cert: /etc/letsencrypt/live/node.example.com/fullchain.pem
    key: /etc/letsencrypt/live/node.example.com/privkey.pem
  upload_limit: 100
system:
  root_directory: /var/lib/pterodactyl
  log_directory: /var/log/pterodactyl
  data: /srv/volumes
  archive_directory: /var/lib/pterodactyl/archives
  backup_directory: /srv/backups
  username: pterodactyl
  timezone: UTC
  user:
    rootless:
      enabled: false
      container_uid: 0
      container_gid: 0
    uid: 988
    gid: 987
  disk_check_interval: 150
  check_permissions_on_boot: true
  sftp:
    bind_address: 0.0.0.0
    bind_port: 2022
  backups:
    write_limit: 5
    compression_level: best_compression
docker:
  network:
    interface: 172.18.0.1
remote: https://panel.example.com/
remote_query:
  timeout: 20
  boot_servers_per_page: 50
allowed_mounts: []
allowed_origins: [https://other.example.com]
`;

function configError(text: string, opts = {}): string {
  try {
    parseWingsConfig(text, 'config.yml', opts);
  } catch (err) {
    assert.ok(err instanceof AppError && err.code === 'E_CONFIG');
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected a config error');
}

test("Pterodactyl's config gives the sidecar everything it needs", () => {
  const c = parseWingsConfig(pterodactyl, '/etc/pterodactyl/config.yml');
  assert.equal(c.uuid, '6f1c2a4e-0d3b-4a8e-9b7c-1d2e3f4a5b6c');
  assert.equal(c.tokenId, 'Tk1dAbCdEfGh1234');
  assert.equal(c.token.reveal(), TOKEN);
  assert.equal(c.remote, 'https://panel.example.com');
  assert.deepEqual(c.api, { host: '127.0.0.1', port: 8081 });
  assert.equal(c.system.data, '/srv/volumes');
  assert.equal(c.system.backupDirectory, '/srv/backups');
  assert.equal(c.system.stateDirectory, '/var/lib/pterodactyl/backwing');
  assert.deepEqual(c.system.user, { uid: 988, gid: 987 });
  assert.equal(c.system.backupLayout, 'flat');
  assert.equal(c.system.backups.writeLimit, 5 * 1024 * 1024);
  assert.equal(c.system.backups.compressionLevel, 9);
  assert.equal(c.system.backups.checksum, 'sha1');
  assert.equal(c.remoteQuery.timeoutMs, 20_000);
  assert.deepEqual(c.allowedOrigins, ['https://other.example.com']);
  assert.equal(c.panelKind, 'upstream');
  assert.equal(c.wings?.flavor, 'pterodactyl');
  assert.equal(c.wings?.api.url, 'http://127.0.0.1:8080');
  assert.equal(c.wings?.api.token.reveal(), TOKEN);
  assert.ok(!inspect(c).includes(TOKEN), 'token never printed');
});

test('Wings defaults fill what the file leaves out; --listen and --layout override', () => {
  const min = `uuid: n\ntoken_id: id\ntoken: ${TOKEN}\nremote: http://panel.test\n`;
  const c = parseWingsConfig(min, '/x/config.yml');
  assert.equal(c.system.data, '/var/lib/pterodactyl/volumes');
  assert.equal(c.system.backupDirectory, '/var/lib/pterodactyl/backups');
  assert.equal(c.system.backups.compressionLevel, 1);
  assert.equal(c.system.backups.writeLimit, 0);
  assert.equal(c.system.user, null);
  assert.equal(c.wings?.api.url, 'http://127.0.0.1:8080');
  const o = parseWingsConfig(`${min}api: {host: 10.0.0.5, port: 9000}\nsystem: {backups: {write_limit: -1}}\n`, '/x/config.yml', { listen: { host: '0.0.0.0', port: 7000 }, layout: 'per-server' });
  assert.deepEqual(o.api, { host: '0.0.0.0', port: 7000 });
  assert.equal(o.wings?.api.url, 'http://10.0.0.5:9000');
  assert.equal(o.system.backupLayout, 'per-server');
  assert.equal(o.system.backups.writeLimit, 0, 'below 1 MiB/s is unlimited, as in Wings');
});

test('Pelican: ${VAR}, $VAR and file:// values, WINGS_TOKEN_ID/WINGS_TOKEN overrides, per-server layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-wcfg-'));
  try {
    writeFileSync(join(dir, 'token'), `${'f'.repeat(40)}\r\n`);
    const text = `uuid: n\ntoken_id: \${PANEL_TOKEN_ID}\ntoken: file://$CREDS/token\nremote: http://panel.test\nsystem:\n  backups:\n    remove_backups_on_server_delete: true\n`;
    const env = { PANEL_TOKEN_ID: 'pelican-id', CREDS: dir };
    const c = parseWingsConfig(text, join(dir, 'config.yml'), { env });
    assert.equal(c.wings?.flavor, 'pelican');
    assert.equal(c.tokenId, 'pelican-id');
    assert.equal(c.token.reveal(), 'f'.repeat(40));
    assert.equal(c.system.backupLayout, 'per-server');
    assert.equal(c.system.data, '/var/lib/pelican/volumes');
    const over = parseWingsConfig(text, '/etc/pelican/config.yml', { env: { ...env, WINGS_TOKEN_ID: 'env-id', WINGS_TOKEN: `file://${dir}/token` } });
    assert.equal(over.tokenId, 'env-id');
    assert.equal(over.token.reveal(), 'f'.repeat(40));
    assert.match(configError(text, { env: { CREDS: dir } }), /config\.yml: token_id uses the environment variable PANEL_TOKEN_ID, which is not set/);
    assert.match(configError(text, { env: { PANEL_TOKEN_ID: 'x', CREDS: '/nonexistent' } }), /token cannot read \/nonexistent\/token \(ENOENT\)/);
    assert.match(configError(text, { env: { ...env, WINGS_TOKEN: 'file:///nope' } }), /WINGS_TOKEN \(overriding token\) cannot read \/nope/);
    // Pterodactyl's Wings takes the file's values literally, and so do we for it.
    const pt = parseWingsConfig(`uuid: n\ntoken_id: $X\ntoken: ${TOKEN}\nremote: http://p\n`, '/etc/pterodactyl/config.yml', { env: { X: 'y', WINGS_TOKEN_ID: 'z' } });
    assert.equal(pt.tokenId, '$X');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with TLS, Wings is reached under its certificate's host name", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-wcert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=node.example.test',
      '-addext', 'subjectAltName=DNS:node.example.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const text = `uuid: n\ntoken_id: id\ntoken: ${TOKEN}\nremote: http://p\napi:\n  port: 8443\n  ssl:\n    enabled: true\n    cert: ${join(dir, 'cert.pem')}\n    key: ${join(dir, 'key.pem')}\n`;
    const c = parseWingsConfig(text, '/x/config.yml');
    assert.equal(c.wings?.api.url, 'https://node.example.test:8443');
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 8444 });
    assert.match(configError(text.replace(join(dir, 'cert.pem'), join(dir, 'nope.pem'))), /api\.ssl\.cert cannot be read as a certificate \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one line naming the key for each value the sidecar cannot use', () => {
  const base = `uuid: n\ntoken_id: id\ntoken: ${TOKEN}\nremote: http://panel.test\n`;
  assert.match(configError(`token_id: id\ntoken: ${TOKEN}\nremote: http://p\n`), /config\.yml: uuid is required/);
  assert.match(configError(base.replace('http://panel.test', 'panel.test')), /remote must be an http\(s\) URL/);
  assert.match(configError(base.replace(TOKEN, 'short')), /token must be at least 16 characters/);
  assert.match(configError(`${base}system: {backups: {compression_level: fastest}}\n`), /system\.backups\.compression_level must be none, best_speed or best_compression/);
  assert.match(configError(`${base}system: {backups: {write_limit: fast}}\n`), /system\.backups\.write_limit must be a number/);
  assert.match(configError(`${base}system: {user: {uid: -1, gid: 5}}\n`), /system\.user\.uid must be a non-negative integer/);
  assert.match(configError(`${base}system: {user: {uid: 5}}\n`), /system\.user\.gid must be a non-negative integer/);
  assert.match(configError(`${base}api: {port: "8080"}\n`), /api\.port must be a number/);
  assert.match(configError(`${base}api: {port: 65535}\n`), /api\.port \+ 1 is not a port/);
  assert.match(configError(`${base}api: {ssl: {enabled: "yes"}}\n`), /api\.ssl\.enabled must be true or false/);
  assert.match(configError(`${base}api: {ssl: {enabled: true}}\n`), /api\.ssl\.cert is required/);
  assert.match(configError(`${base}remote_query: {timeout: 0}\n`), /remote_query\.timeout must be between 1 and 3600/);
  assert.match(configError('a: [b'), /not valid YAML/);
});

test('a later Pterodactyl config with restore_host_allowlist is still Pterodactyl (flat layout)', () => {
  const c = parseWingsConfig(`${pterodactyl}`.replace('    compression_level: best_compression\n', '    compression_level: best_compression\n    restore_host_allowlist: [10.0.0.0/8]\n'), '/srv/wings.yml');
  assert.deepEqual(c.system.backups.restoreHostAllowlist, ['10.0.0.0/8']);
  assert.equal(c.wings?.flavor, 'pterodactyl');
  assert.equal(c.system.backupLayout, 'flat');
});

test('the default path is Pterodactyl, else Pelican', () => {
  assert.equal(defaultWingsConfigPath(() => false), WINGS_CONFIG_PATHS.pterodactyl);
  assert.equal(defaultWingsConfigPath((p) => p === WINGS_CONFIG_PATHS.pelican), WINGS_CONFIG_PATHS.pelican);
  assert.equal(defaultWingsConfigPath(() => true), WINGS_CONFIG_PATHS.pterodactyl);
});

test("the control file, not Wings' config, gives the sidecar its control settings; Wings' url and token fill the rest", () => {
  const S = '0b6e3c1a-5f2d-4c8b-9a7e-3d4c5b6a7f80';
  // Wings drops keys it does not know, but a control section left in its file must not win over the control file.
  const withStale = `${pterodactyl}control: {save_hooks: {default: source}}\n`;
  const control = { path: '/etc/backwing/control.yml', text: `control:\n  save_hooks:\n    default: minecraft-java\n    timeout: 30\n  servers:\n    ${S}:\n      save_hook: minecraft-bedrock\n` };
  const c = parseWingsConfig(withStale, '/etc/pterodactyl/config.yml', { control });
  assert.equal(c.control.type, 'wings');
  assert.equal(c.control.power, 'wings');
  assert.equal(c.control.wings?.url, 'http://127.0.0.1:8080');
  assert.equal(c.control.wings?.token.reveal(), TOKEN);
  assert.deepEqual(c.control.saveHooks.default, { preset: 'minecraft-java' });
  assert.equal(c.control.saveHooks.timeoutMs, 30_000);
  assert.deepEqual(c.control.servers.get(S)?.saveHook, { preset: 'minecraft-bedrock' });
  assert.equal(c.wings?.controlPath, '/etc/backwing/control.yml');
  // Without the file: today's behaviour, read from Wings' config.
  assert.deepEqual(parseWingsConfig(withStale, '/etc/pterodactyl/config.yml').control.saveHooks.default, { preset: 'source' });
  assert.equal(parseWingsConfig(pterodactyl, '/etc/pterodactyl/config.yml').wings?.controlPath, undefined);
});

test('a control file the sidecar cannot use: one line naming the key in that file', () => {
  const bad = (text: string) => configError(pterodactyl, { control: { path: '/etc/backwing/control.yml', text } });
  assert.match(bad('control: {save_hooks: {default: minecraft-jav}}'), /^\/etc\/backwing\/control\.yml: control\.save_hooks\.default is invalid/);
  assert.match(bad('control: {save_hooks: {allowed: [none]}, servers: {x: {save_hook: none}}}'), /control\.yml: control\.servers\.x is not a server uuid/);
  assert.match(bad('control: {type: ssh}'), /control\.yml: control\.type must be one of/);
  // Every key in this file is backwing's: a typo is reported rather than silently ignored.
  assert.match(bad('save_hooks: {default: minecraft-java}'), /control\.yml: save_hooks is not a control setting \(known: control\)/);
  assert.match(bad('control: {save_hook: {default: minecraft-java}}'), /control\.yml: control\.save_hook is not a control setting/);
  assert.match(bad('control: {save_hooks: {defualt: minecraft-java}}'), /control\.yml: control\.save_hooks\.defualt is not a control setting/);
  assert.match(bad('control: [a]'), /control\.yml: control must be a mapping/);
  assert.match(bad('- control'), /control\.yml: must be a YAML mapping/);
});

test('the default control file is /etc/backwing/control.yml when it exists, else none', () => {
  assert.equal(defaultControlConfigPath(() => false), null);
  assert.equal(defaultControlConfigPath((p) => p === CONTROL_CONFIG_PATH), CONTROL_CONFIG_PATH);
  assert.equal(CONTROL_CONFIG_PATH, '/etc/backwing/control.yml');
});
