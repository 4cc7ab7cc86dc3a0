import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseDaemonConfig, loadDaemonConfig, renderDaemonConfig, DAEMON_DEFAULTS } from './config.ts';
import { AppError } from '../core/app-error.ts';

const base = 'uuid: n1\ntoken_id: abc\ntoken: 0123456789abcdef0123\nremote: http://panel.test/\n';

function configError(text: string): string {
  try {
    parseDaemonConfig(text, 'cfg.yml');
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'E_CONFIG');
    return err.message;
  }
  assert.fail('expected a config error');
}

test('defaults fill everything not given', () => {
  const c = parseDaemonConfig(base, 'cfg.yml');
  assert.equal(c.api.host, DAEMON_DEFAULTS['api.host']);
  assert.equal(c.api.port, 8080);
  assert.equal(c.remote, 'http://panel.test');
  assert.equal(c.system.stateDirectory, '/var/lib/pterodactyl/state');
  assert.equal(c.system.backupDirectory, '/var/lib/pterodactyl/backups');
  assert.equal(c.system.backups.writeLimit, 0);
  assert.equal(c.system.backups.compressionLevel, 1);
  assert.equal(c.system.backups.checksum, 'sha256');
  assert.equal(c.system.backups.s3PartConcurrency, 3);
  assert.equal(c.remoteQuery.timeoutMs, 30_000);
  assert.equal(c.system.backups.s3MaxPartSize, 64 * 1024 * 1024);
  assert.equal(c.system.backups.restoreIdleTimeoutMs, 60_000);
  assert.deepEqual(c.metrics, { host: '127.0.0.1', port: null });
  assert.ok(Object.isFrozen(c));
  assert.ok(!inspect(c).includes('0123456789abcdef0123'), 'token never printed');
});

test('values are converted: write limit MiB/s → bytes, level names → numbers', () => {
  const c = parseDaemonConfig(
    `${base}system:\n  backups:\n    write_limit: 5\n    compression_level: best_compression\n    checksum: sha1\n    restore_host_allowlist: [127.0.0.1, 10.0.0.0/8, minio.internal]\n`,
    'cfg.yml',
  );
  assert.equal(c.system.backups.writeLimit, 5 * 1024 * 1024);
  assert.equal(c.system.backups.compressionLevel, 9);
  assert.equal(c.system.backups.checksum, 'sha1');
  assert.deepEqual(c.system.backups.restoreHostAllowlist, ['127.0.0.1', '10.0.0.0/8', 'minio.internal']);
  assert.equal(parseDaemonConfig(`${base}system: {backups: {compression_level: none}}\n`, 'x').system.backups.compressionLevel, 0);
  assert.equal(parseDaemonConfig(`${base}system: {backups: {compression_level: 6}}\n`, 'x').system.backups.compressionLevel, 6);
});

test('one clear line naming the key for each invalid value', () => {
  assert.match(configError('token_id: a\ntoken: 0123456789abcdef0\nremote: http://x\n'), /cfg\.yml: uuid is required/);
  assert.match(configError(base.replace('http://panel.test/', 'ftp://x')), /remote must be an http\(s\) URL/);
  assert.match(configError(base.replace('0123456789abcdef0123', 'short')), /token must be at least 16/);
  assert.match(configError(`${base}api: {port: 70000}\n`), /api\.port must be between 0 and 65535/);
  assert.match(configError(`${base}api: {port: "80"}\n`), /api\.port must be a number/);
  assert.match(configError(`${base}system: {backups: {compression_level: fastest}}\n`), /system\.backups\.compression_level/);
  assert.match(configError(`${base}system: {backups: {checksum: md5}}\n`), /system\.backups\.checksum must be sha256 or sha1/);
  assert.match(configError(`${base}system: {backups: {restore_host_allowlist: ["10.0.0.0/99"]}}\n`), /invalid CIDR/);
  assert.match(configError(`${base}system: {backups: {s3_part_concurrency: 0}}\n`), /s3_part_concurrency/);
  assert.match(configError(`${base}system: {backups: {s3_max_part_size: 1}}\n`), /s3_max_part_size must be between 5/);
  assert.match(configError(`${base}allowed_origins: "x"\n`), /allowed_origins must be a list/);
  assert.match(configError(`${base}metrics: {port: 1.5}\n`), /metrics\.port must be an integer/);
  assert.match(configError('a: [b'), /not valid YAML/);
  assert.match(configError('- a\n- b\n'), /must be a YAML mapping/);
  for (const msg of [configError('a: [b'), configError('x: 1\n')]) assert.ok(!msg.includes('\n'), 'one line');
});

test('loadDaemonConfig reads a file; a missing file is a clear E_CONFIG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-cfg-'));
  try {
    const path = join(dir, 'config.yml');
    writeFileSync(path, base);
    assert.equal(loadDaemonConfig(path).uuid, 'n1');
    assert.throws(() => loadDaemonConfig(join(dir, 'nope.yml')), (err: unknown) => err instanceof AppError && err.code === 'E_CONFIG' && /cannot read/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renderDaemonConfig round-trips through the parser', () => {
  const text = renderDaemonConfig({ uuid: 'node-1', tokenId: 'tid', token: 'a'.repeat(32), remote: 'http://127.0.0.1:3000', apiPort: 0, backupDirectory: '/b', restoreHostAllowlist: ['127.0.0.1'] });
  const c = parseDaemonConfig(text, 'rendered');
  assert.equal(c.uuid, 'node-1');
  assert.equal(c.tokenId, 'tid');
  assert.equal(c.token.reveal(), 'a'.repeat(32));
  assert.equal(c.api.port, 0);
  assert.equal(c.system.backupDirectory, '/b');
  assert.deepEqual(c.system.backups.restoreHostAllowlist, ['127.0.0.1']);
});

test('system.user gives the owner of restored files: both ids or neither', () => {
  assert.equal(parseDaemonConfig(base, 'x').system.user, null);
  assert.deepEqual(parseDaemonConfig(`${base}system: {user: {uid: 988, gid: 988}}\n`, 'x').system.user, { uid: 988, gid: 988 });
  assert.match(configError(`${base}system: {user: {uid: 988}}\n`), /system\.user\.gid must be a non-negative integer/);
  const c = parseDaemonConfig(base, 'x');
  assert.equal(c.panelKind, 'backwing');
  assert.equal(c.wings, null);
  assert.equal(c.system.backupLayout, 'flat');
});
