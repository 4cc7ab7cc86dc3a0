import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/helpers.ts';
import { startDaemonProcess } from './support/daemon-process.ts';

const BIN = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));

test('backwing daemon with a missing or invalid config exits 2 with one clear line', () => {
  const dir = tempDir();
  try {
    const missing = spawnSync(process.execPath, [BIN, 'daemon', '--config', join(dir.path, 'nope.yml')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.yml: cannot read the config file/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    const bad = join(dir.path, 'bad.yml');
    writeFileSync(bad, 'uuid: n\ntoken_id: t\ntoken: 0123456789abcdef\nremote: http://127.0.0.1:1\napi: {port: -1}\n');
    const invalid = spawnSync(process.execPath, [BIN, 'daemon', '--config', bad], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /api\.port must be between 0 and 65535/);
    assert.equal(invalid.stdout, '');
  } finally {
    dir.cleanup();
  }
});

test('a port already in use is a clean failure: one line, non-zero exit, no hang', async () => {
  const dir = tempDir();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const port = (blocker.address() as AddressInfo).port;
    const cfg = join(dir.path, 'c.yml');
    writeFileSync(
      cfg,
      `uuid: n\ntoken_id: t\ntoken: 0123456789abcdef\nremote: http://127.0.0.1:1\napi: {host: 127.0.0.1, port: ${port}}\nsystem: {root_directory: ${dir.path}, data: ${join(dir.path, 'v')}, backup_directory: ${join(dir.path, 'b')}}\n`,
    );
    const child = spawn(process.execPath, [BIN, 'daemon', '--config', cfg, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    clearTimeout(timer);
    assert.equal(signal, null, 'exited on its own');
    assert.notEqual(code, 0);
    assert.match(stderr, /EADDRINUSE/);
  } finally {
    blocker.close();
    dir.cleanup();
  }
});

test('metrics.port moves /metrics to its own listener (bind-able), off the API port', async () => {
  const dir = tempDir();
  // No panel at all: the daemon serves anyway and keeps retrying in the background.
  const daemon = await startDaemonProcess({ root: dir.path, panelUrl: 'http://127.0.0.1:1', token: '0123456789abcdef0123', tokenId: 't', extra: { metrics: { host: '127.0.0.1', port: 0 } } });
  try {
    const metricsUrl = daemon.listening.metrics_url;
    assert.ok(metricsUrl, 'metrics_url printed');
    assert.notEqual(new URL(metricsUrl).port, new URL(daemon.url).port);
    const m = await fetch(metricsUrl);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /backwing_daemon_backups_total/);
    const onApi = await fetch(`${daemon.url}/metrics`);
    assert.equal(onApi.status, 404);
    await onApi.arrayBuffer();
  } finally {
    await daemon.stop();
    dir.cleanup();
  }
});
