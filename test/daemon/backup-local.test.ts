import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, readTree, random } from './support/helpers.ts';

const SERVER = uuid();
const OTHER = uuid();
let panel: FakePanel;
let daemon: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let serverDir: string;

const files = {
  'server.properties': 'motd=hello\n',
  'world/level.dat': random(4096),
  'world/region/r.0.0.mca': random(200_000),
  'plugins/a.jar': random(10_000),
  'logs/latest.log': 'noise\n',
  'cache/x.bin': random(100),
  'debug.log': 'more noise\n',
  '.pteroignore': 'plugins/\n',
};
// Request patterns plus the .pteroignore rule `plugins/`.
const IGNORE = '*.log\ncache/';
const EXPECTED = ['.pteroignore', 'server.properties', 'world/level.dat', 'world/region/r.0.0.mca'];

async function backup(server: string, id: string, ignore = IGNORE) {
  const res = await call('POST', `/api/servers/${server}/backup`, { adapter: 'wings', uuid: id, ignore });
  assert.equal(res.status, 202, res.text);
  return panel.waitForReport((r) => r.path === `/backups/${id}`);
}

before(async () => {
  dir = tempDir();
  panel = await startFakePanel({ servers: [SERVER, OTHER] });
  daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, logLevel: 'info' });
  call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  serverDir = join(daemon.data, SERVER);
  writeTree(serverDir, files);
});

after(async () => {
  await daemon?.stop();
  await panel?.close();
  dir?.cleanup();
});

test('backup → report → download → tar -tzf lists exactly the non-ignored files; Range resume; one-time token', async () => {
  const id = uuid();
  const report = await backup(SERVER, id);
  assert.equal(report.body.successful, true);
  assert.equal(report.body.checksum_type, 'sha256');
  assert.match(report.body.checksum, /^[0-9a-f]{64}$/);
  assert.equal(report.body.parts, null);
  const archive = join(daemon.backups, `${id}.tar.gz`);
  assert.equal(readFileSync(archive).length, report.body.size);
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.endsWith('.tmp')), []);
  const sidecar = JSON.parse(readFileSync(join(daemon.backups, `${id}.json`), 'utf8'));
  assert.equal(sidecar.server_uuid, SERVER);

  // Same uuid again: the backup exists → 409.
  const again = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' });
  assert.equal(again.status, 409);

  const token = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id });
  // A HEAD probe does not burn the one-time token.
  const head = await fetch(`${daemon.url}/download/backup?token=${token}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), report.body.size);
  const res = await fetch(`${daemon.url}/download/backup?token=${token}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/gzip');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="${id}.tar.gz"`);
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  assert.equal(Number(res.headers.get('content-length')), report.body.size);
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(body.equals(readFileSync(archive)));
  const out = join(dir.path, 'dl.tar.gz');
  writeFileSync(out, body);
  const listed = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^\.\//, ''))
    .sort();
  assert.deepEqual(listed, [...EXPECTED].sort());

  // A plain replay of the same token is refused (one-time)…
  const replay = await fetch(`${daemon.url}/download/backup?token=${token}`);
  assert.equal(replay.status, 404);
  await replay.arrayBuffer();
  // …but a resume with Range is allowed until the token expires.
  const from = 1000;
  const ranged = await fetch(`${daemon.url}/download/backup?token=${token}`, { headers: { range: `bytes=${from}-` } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes ${from}-${body.length - 1}/${body.length}`);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(from)));
  const suffix = await fetch(`${daemon.url}/download/backup?token=${token}`, { headers: { range: 'bytes=-10' } });
  assert.equal(suffix.status, 206);
  assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(body.subarray(body.length - 10)));
  const beyond = await fetch(`${daemon.url}/download/backup?token=${token}`, { headers: { range: `bytes=${body.length + 5}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${body.length}`);
  await beyond.arrayBuffer();
  // Requests are logged by path; the token in the query string never reaches the log.
  await waitUntil(() => daemon.stderr().includes('/download/backup'), 5000, 'request log line');
  assert.ok(!daemon.stderr().includes(token.split('.')[2]!), 'token not logged');
  assert.ok(!daemon.stderr().includes(panel.token), 'node token not logged');
});

test('download token failures: 401 missing, 403 bad/expired/wrong scope, 404 unknown or foreign backup', async () => {
  const id = uuid();
  await backup(SERVER, id);
  const get = async (q: string) => {
    const r = await fetch(`${daemon.url}/download/backup${q}`);
    const t = await r.text();
    return { status: r.status, json: t ? JSON.parse(t) : null };
  };
  assert.equal((await get('')).status, 401);
  assert.equal((await get('?token=')).status, 401);
  assert.equal((await get('?token=not.a.jwt')).status, 403);
  const good = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id });
  const tampered = good.slice(0, -3) + (good.endsWith('aaa') ? 'bbb' : 'aaa');
  assert.equal((await get(`?token=${tampered}`)).status, 403);
  assert.equal((await get(`?token=${await panel.signDownload({ server_uuid: SERVER, backup_uuid: id }, -60)}`)).status, 403);
  assert.equal((await get(`?token=${await panel.signDownload({ server_uuid: SERVER, backup_uuid: id, scope: 'websocket' })}`)).status, 403);
  assert.equal((await get(`?token=${await panel.signDownload({ server_uuid: uuid(), backup_uuid: id })}`)).status, 404);
  assert.equal((await get(`?token=${await panel.signDownload({ server_uuid: SERVER, backup_uuid: uuid() })}`)).status, 404);
  // The backup exists but belongs to SERVER, not OTHER: upstream would serve it; we do not.
  const foreign = await get(`?token=${await panel.signDownload({ server_uuid: OTHER, backup_uuid: id })}`);
  assert.equal(foreign.status, 404);
  assert.equal(foreign.json.error, 'The requested backup was not found on this server.');
  const scoped = await fetch(`${daemon.url}/download/backup?token=${await panel.signDownload({ server_uuid: SERVER, backup_uuid: id, scope: 'backup-download' })}`);
  assert.equal(scoped.status, 200);
  await scoped.arrayBuffer();
});

test('concurrent plain downloads with one token: exactly one wins', async () => {
  const id = uuid();
  await backup(SERVER, id);
  const token = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id });
  const results = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const r = await fetch(`${daemon.url}/download/backup?token=${token}`);
      await r.arrayBuffer();
      return r.status;
    }),
  );
  assert.equal(results.filter((s) => s === 200).length, 1);
  assert.equal(results.filter((s) => s === 404).length, 9);
});

test('restore (wings): merge keeps extra files, truncate removes them; missing/foreign backup → 404 before truncation', async () => {
  const id = uuid();
  await backup(SERVER, id, '');
  const original = readTree(serverDir);
  // .pteroignore (`plugins/`) still applies when the request sends no patterns.
  delete original['plugins/a.jar'];
  writeFileSync(join(serverDir, 'server.properties'), 'changed');
  writeFileSync(join(serverDir, 'extra.txt'), 'extra');

  const merge = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: false });
  assert.equal(merge.status, 202, merge.text);
  const r1 = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
  assert.equal(r1.body.successful, true);
  const merged = readTree(serverDir);
  assert.equal(Buffer.from(merged['server.properties']!, 'base64').toString(), 'motd=hello\n');
  assert.ok(merged['extra.txt'], 'merge keeps files not in the backup');

  // A missing backup with truncate=true must not wipe anything (upstream wiped first).
  const missing = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(missing.status, 404);
  assert.ok(existsSync(join(serverDir, 'extra.txt')));
  // A backup of another server is not ours to restore.
  const otherId = uuid();
  writeTree(join(daemon.data, OTHER), { 'o.txt': 'other' });
  await backup(OTHER, otherId, '');
  const foreign = await call('POST', `/api/servers/${SERVER}/backup/${otherId}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(foreign.status, 404);
  assert.ok(existsSync(join(serverDir, 'extra.txt')));

  panel.reports.length = 0;
  const truncate = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(truncate.status, 202);
  const r2 = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
  assert.equal(r2.body.successful, true);
  assert.deepEqual(readTree(serverDir), original);
});

test('delete: 204 then 404; foreign backup 404; delete-all removes only that server’s backups', async () => {
  const a = uuid();
  const b = uuid();
  const o = uuid();
  await backup(SERVER, a);
  await backup(SERVER, b);
  await backup(OTHER, o, '');
  const foreign = await call('DELETE', `/api/servers/${OTHER}/backup/${a}`);
  assert.equal(foreign.status, 404);
  assert.equal((await call('DELETE', `/api/servers/${SERVER}/backup/${a}`)).status, 204);
  assert.ok(!existsSync(join(daemon.backups, `${a}.tar.gz`)));
  assert.ok(!existsSync(join(daemon.backups, `${a}.json`)));
  assert.equal((await call('DELETE', `/api/servers/${SERVER}/backup/${a}`)).status, 404);
  assert.equal((await call('DELETE', `/api/servers/${SERVER}/backup/delete-all`)).status, 204);
  const left = readdirSync(daemon.backups);
  assert.ok(!left.some((n) => n.startsWith(b)));
  assert.ok(left.includes(`${o}.tar.gz`), 'other server keeps its backup');
  assert.equal((await call('DELETE', `/api/servers/${uuid()}/backup/delete-all`)).status, 404);
});

test('deleting a running backup aborts it, reports failure and leaves nothing behind', async () => {
  const big = join(daemon.data, OTHER, 'big');
  mkdirSync(big, { recursive: true });
  for (let i = 0; i < 8; i++) writeFileSync(join(big, `f${i}`), random(4 * 1024 * 1024));
  // No write limit on this daemon: race the delete against the job but accept either outcome
  // of the race only if the files and report agree.
  const id = uuid();
  const res = await call('POST', `/api/servers/${OTHER}/backup`, { adapter: 'wings', uuid: id, ignore: '' });
  assert.equal(res.status, 202);
  const del = await call('DELETE', `/api/servers/${OTHER}/backup/${id}`);
  assert.equal(del.status, 204);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(typeof report.body.successful, 'boolean');
  assert.ok(!existsSync(join(daemon.backups, `${id}.tar.gz`)));
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.includes(id)), []);
  rmSync(big, { recursive: true, force: true });
});

test('websocket: auth, backup events only with backup.read, jwt error for another server', async () => {
  const open = async (token: string) => {
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
    const frames: { event: string; args: string[] }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    ws.send(JSON.stringify({ event: 'auth', args: [token] }));
    await waitUntil(() => frames.length > 0, 5000, 'auth answer');
    return { ws, frames };
  };
  const reader = await open(await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['backup.read'] }));
  const blind = await open(await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['control.console'] }));
  assert.equal(reader.frames[0]!.event, 'auth success');
  assert.equal(blind.frames[0]!.event, 'auth success');
  const wrong = await open(await panel.signWs({ server_uuid: OTHER, user_uuid: uuid(), permissions: ['*'] }));
  assert.equal(wrong.frames[0]!.event, 'jwt error');

  const id = uuid();
  await backup(SERVER, id);
  await waitUntil(() => reader.frames.some((f) => f.event === 'backup completed'), 5000, 'backup completed event');
  const done = JSON.parse(reader.frames.find((f) => f.event === 'backup completed')!.args[0]!);
  assert.equal(done.uuid, id);
  assert.equal(done.is_successful, true);
  assert.match(done.checksum, /^[0-9a-f]{64}$/);
  assert.ok(done.file_size > 0);
  assert.ok(!blind.frames.some((f) => f.event.startsWith('backup')), 'no backup events without backup.read');

  const restoreDone = call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: false });
  assert.equal((await restoreDone).status, 202);
  await waitUntil(() => blind.frames.some((f) => f.event === 'backup restore completed'), 5000, 'restore completed event');
  const restored = JSON.parse(blind.frames.find((f) => f.event === 'backup restore completed')!.args[0]!);
  assert.equal(restored.uuid, id);
  assert.equal(restored.is_successful, true);

  // Origin check: a foreign origin is refused before the upgrade.
  const foreign = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`, { headers: { origin: 'http://evil.example' } });
  const status = await new Promise<number>((r) => foreign.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
  assert.equal(status, 403);
  // Short-lived token: warned at once (less than a minute left), then expired and unsubscribed.
  const shortLived = await open(await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] }, 2));
  await waitUntil(() => shortLived.frames.some((f) => f.event === 'token expiring'), 3000, 'token expiring');
  await waitUntil(() => shortLived.frames.some((f) => f.event === 'token expired'), 5000, 'token expired');
  await backup(SERVER, uuid());
  assert.ok(!shortLived.frames.some((f) => f.event === 'backup completed'), 'no events after expiry');
  // Flooding closes the socket.
  const flood = await open(await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] }));
  const closed = new Promise<number>((r) => flood.ws.once('close', (code) => r(code)));
  for (let i = 0; i < 150; i++) flood.ws.send(JSON.stringify({ event: 'send logs', args: [] }));
  assert.equal(await closed, 1008);
  for (const c of [reader, blind, wrong, shortLived]) c.ws.close();
});
