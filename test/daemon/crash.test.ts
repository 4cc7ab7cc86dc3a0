import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess, type DaemonProcessOptions } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from './support/helpers.ts';
import { buildTarGz } from './support/hostile-tar.ts';

const SERVER = uuid();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function env(writeLimitMiB = 0) {
  const dir = tempDir();
  const panel = await startFakePanel({ servers: [SERVER] });
  cleanups.push(() => dir.cleanup(), () => panel.close());
  const opts: DaemonProcessOptions = { root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, writeLimitMiB };
  const start = async () => {
    const d = await startDaemonProcess(opts);
    cleanups.push(() => d.kill());
    await waitUntil(async () => (await api(d.url, panel.token)('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
    return d;
  };
  return { dir, panel, start };
}

const jobs = (d: DaemonProcess) => (existsSync(join(d.state, 'jobs')) ? readdirSync(join(d.state, 'jobs')) : []);
const outbox = (d: DaemonProcess) => readdirSync(join(d.state, 'outbox'));

test('kill -9 during a backup: the restart removes temp files and reports the backup failed', async () => {
  const { panel, start } = await env(1);
  let daemon = await start();
  writeTree(join(daemon.data, SERVER), { 'a.bin': random(3 * 1024 * 1024), 'b.bin': random(3 * 1024 * 1024) });
  const id = uuid();
  const res = await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' });
  assert.equal(res.status, 202);
  await waitUntil(() => readdirSync(daemon.backups).some((n) => n.endsWith('.tmp')), 10_000, 'archive temp file');
  assert.equal(jobs(daemon).length, 1);
  assert.ok(jobs(daemon)[0]!.startsWith(`backup-${id}-`));
  await daemon.kill();
  assert.ok(!panel.reports.some((r) => r.path === `/backups/${id}`), 'no report before the restart');
  const resetsBefore = panel.reports.filter((r) => r.path === '/servers/reset').length;

  daemon = await start();
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(report.body.successful, false);
  assert.equal(report.body.size, 0);
  await waitUntil(() => panel.reports.filter((r) => r.path === '/servers/reset').length > resetsBefore, 10_000, 'reset after restart');
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.endsWith('.tmp') || n.startsWith(id)), []);
  assert.deepEqual(jobs(daemon), []);
  await daemon.stop();
});

test('kill -9 during a restore: the restart reports it failed and clears the restoring state', async () => {
  const { panel, start } = await env(0);
  let daemon = await start();
  const serverDir = join(daemon.data, SERVER);
  const names = Array.from({ length: 20 }, (_, i) => `part-${i}.bin`);
  const body = buildTarGz(names.map((name) => ({ name, content: random(64 * 1024) })));
  panel.blobs.set('slow', { status: 200, contentType: 'application/gzip', body, rate: 64 * 1024 });
  const id = uuid();
  const call = api(daemon.url, panel.token);
  const res = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 's3', truncate_directory: true, download_url: `${panel.url}/blob/slow` });
  assert.equal(res.status, 202, res.text);
  await waitUntil(() => readdirSync(serverDir).length > 0, 10_000, 'restore in progress');
  assert.equal(jobs(daemon).length, 1);
  assert.ok(jobs(daemon)[0]!.startsWith(`restore-${id}-`));
  await daemon.kill();

  daemon = await start();
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
  assert.equal(report.body.successful, false);
  assert.deepEqual(jobs(daemon), []);
  // Whatever was written came from the archive; nothing else appeared.
  for (const n of readdirSync(serverDir)) assert.ok(names.includes(n), n);
  // Not restoring any more: a new restore is accepted.
  panel.blobs.set('fast', { status: 200, contentType: 'application/gzip', body });
  const again = await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 's3', truncate_directory: false, download_url: `${panel.url}/blob/fast` });
  assert.equal(again.status, 202);
  await daemon.stop();
});

test('deleting a running backup aborts it and reports failure; progress events reach backup.read sockets', async () => {
  const { panel, start } = await env(1);
  const daemon = await start();
  writeTree(join(daemon.data, SERVER), Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.bin`, random(1024 * 1024)])));
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const frames: { event: string; args: string[] }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] })] }));
  await waitUntil(() => frames.some((f) => f.event === 'auth success'), 5000, 'auth');
  const id = uuid();
  const call = api(daemon.url, panel.token);
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
  await waitUntil(() => readdirSync(daemon.backups).some((n) => n.endsWith('.tmp')), 10_000, 'archive temp file');
  // Running: a second request with the same uuid is a conflict.
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 409);
  assert.equal((await call('DELETE', `/api/servers/${SERVER}/backup/${id}`)).status, 204);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(report.body.successful, false);
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.includes(id)), []);
  await waitUntil(() => frames.some((f) => f.event === 'backup completed'), 5000, 'completed event');
  assert.equal(JSON.parse(frames.find((f) => f.event === 'backup completed')!.args[0]!).is_successful, false);
  // A backup that runs to the end publishes progress before it completes.
  const id2 = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id2, ignore: 'f[1-7].bin' })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${id2}`);
  await waitUntil(() => frames.some((f) => f.event === 'backup progress' && JSON.parse(f.args[0]!).uuid === id2), 5000, 'progress event');
  // The last progress frame of the backup that ran to the end (the aborted one may have published
  // progress from inside its first file, before any file was done).
  const progress = frames.filter((f) => f.event === 'backup progress').map((f) => JSON.parse(f.args[0]!)).filter((p) => p.uuid === id2).at(-1);
  assert.equal(typeof progress.bytes_written, 'number');
  assert.ok(progress.files_done >= 1);
  ws.close();
  await daemon.stop();
});

test('graceful stop during a restore reports it failed and leaves no journal', async () => {
  const { panel, start } = await env(0);
  const daemon = await start();
  const body = buildTarGz(Array.from({ length: 10 }, (_, i) => ({ name: `p${i}.bin`, content: random(64 * 1024) })));
  panel.blobs.set('slow', { status: 200, contentType: 'application/gzip', body, rate: 64 * 1024 });
  const id = uuid();
  const res = await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 's3', truncate_directory: false, download_url: `${panel.url}/blob/slow` });
  assert.equal(res.status, 202);
  await waitUntil(() => jobs(daemon).length === 1, 5000, 'restore journaled');
  assert.equal(await daemon.stop(), 0);
  const report = panel.reports.find((r) => r.path === `/backups/${id}/restore`);
  assert.equal(report?.body.successful, false, 'failure reported during shutdown');
  assert.deepEqual(jobs(daemon), []);
});

test('reports survive a panel outage and a restart; 5xx retried, 4xx dropped', async () => {
  const { panel, start } = await env(0);
  let daemon = await start();
  writeTree(join(daemon.data, SERVER), { 'f.txt': 'x' });
  const call = api(daemon.url, panel.token);
  panel.failReports(1_000_000, 503);
  const id = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
  await waitUntil(() => outbox(daemon).length > 0, 10_000, 'report persisted');
  await waitUntil(async () => {
    const m = await (await fetch(`${daemon.url}/metrics`)).text();
    return /backwing_daemon_report_retries_total [1-9]/.test(m);
  }, 10_000, 'a failed delivery');
  assert.equal(await daemon.stop(), 0, 'graceful stop');
  assert.ok(outbox(daemon).length > 0, 'undelivered report kept on disk');

  panel.failReports(0, 500);
  daemon = await start();
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(report.body.successful, true);
  await waitUntil(() => outbox(daemon).length === 0, 10_000, 'outbox drained');

  // Two 500s, then success: delivered by the retry loop.
  panel.failReports(2, 500);
  const id2 = uuid();
  assert.equal((await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id2, ignore: '' })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${id2}`);
  // A 4xx is final: dropped, not retried.
  panel.failReports(1, 400);
  const id3 = uuid();
  assert.equal((await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id3, ignore: '' })).status, 202);
  await waitUntil(() => outbox(daemon).length === 0 && existsSync(join(daemon.backups, `${id3}.json`)), 10_000, 'refused report dropped');
  assert.ok(!panel.reports.some((r) => r.path === `/backups/${id3}`));
  await daemon.stop();
});

test('graceful stop during a backup reports it failed before exiting; panel down at start is retried while serving', async () => {
  const { panel, start } = await env(1);
  let daemon = await start();
  writeTree(join(daemon.data, SERVER), { 'a.bin': random(4 * 1024 * 1024) });
  const id = uuid();
  assert.equal((await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
  await waitUntil(() => jobs(daemon).length === 1, 5000, 'job journaled');
  assert.equal(await daemon.stop(), 0);
  const report = panel.reports.find((r) => r.path === `/backups/${id}`);
  assert.equal(report?.body.successful, false, 'failure reported during shutdown');
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.includes(id)), []);

  panel.serversDown = true;
  const { startDaemonProcess: spawnDaemon } = await import('./support/daemon-process.ts');
  daemon = await spawnDaemon({ root: daemon.root, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId });
  cleanups.push(() => daemon.kill());
  const call = api(daemon.url, panel.token);
  const sys = await call('GET', '/api/system');
  assert.equal(sys.status, 200, 'serving while the panel is down');
  assert.equal(sys.json.healthy, false);
  panel.serversDown = false;
  await waitUntil(async () => (await call('GET', '/api/system')).json.healthy === true, 20_000, 'servers loaded after the panel came back');
  mkdirSync(join(daemon.data, SERVER), { recursive: true });
  await daemon.stop();
});
