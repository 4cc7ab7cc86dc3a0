/**
 * Hardening cases found in review: backup/restore exclusion, exactly-once crash recovery, hostile
 * websocket frames and URLs, truncation next to symlinks that point outside the server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, lstatSync, readlinkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from './support/helpers.ts';
import { buildTarGz } from './support/hostile-tar.ts';

const SERVER = uuid();
let panel: FakePanel;
let daemon: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let serverDir: string;

const startDaemon = async () => {
  // 1 MiB/s so a few MiB of random data keep a backup running long enough to collide with.
  const d = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, writeLimitMiB: 1 });
  const c = api(d.url, panel.token);
  await waitUntil(async () => (await c('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  return d;
};

before(async () => {
  dir = tempDir();
  panel = await startFakePanel({ servers: [SERVER] });
  daemon = await startDaemon();
  call = api(daemon.url, panel.token);
  serverDir = join(daemon.data, SERVER);
});

after(async () => {
  await daemon?.stop();
  await panel?.close();
  dir?.cleanup();
});

const jobs = () => (existsSync(join(daemon.state, 'jobs')) ? readdirSync(join(daemon.state, 'jobs')) : []);

test('a restore while a backup of the same server runs is 409 (both adapters); accepted once the backup is done', async () => {
  writeTree(serverDir, { 'big-1.bin': random(2 * 1024 * 1024), 'big-2.bin': random(2 * 1024 * 1024) });
  panel.blobs.set('small', { status: 200, contentType: 'application/gzip', body: buildTarGz([{ name: 'restored.txt', content: 'r' }]) });
  const id = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
  const local = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(local.status, 409, local.text);
  const s3 = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 's3', truncate_directory: true, download_url: `${panel.url}/blob/small` });
  assert.equal(s3.status, 409, s3.text);
  assert.match(s3.json.error, /backup of this server is running/);
  // Refused before anything was touched: the files being archived are all still there.
  assert.ok(existsSync(join(serverDir, 'big-1.bin')) && existsSync(join(serverDir, 'big-2.bin')));
  assert.equal((await call('GET', '/api/system')).json.running_restores, 0);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`, 30_000);
  assert.equal(report.body.successful, true);
  await waitUntil(async () => (await call('GET', '/api/system')).json.running_backups === 0, 5000, 'backup released');
  const restoreId = uuid();
  const after = await call('POST', `/api/servers/${SERVER}/backup/${restoreId}/restore`, { adapter: 's3', truncate_directory: false, download_url: `${panel.url}/blob/small` });
  assert.equal(after.status, 202, after.text);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${restoreId}/restore`)).body.successful, true);
});

test('hostile websocket frames (null, numbers, arrays, bad args, binary) never crash the daemon', async () => {
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const frames: { event: string; args: string[] }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  for (const f of ['null', '5', '"auth"', '[]', '{"event":5}', '{"event":"ping"}', Buffer.from([0xff, 0xfe, 0x00])]) ws.send(f);
  // args that are not an array of strings: refused as a bad token, socket closed with 4001.
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send('{"event":"auth","args":null}');
  assert.equal(await closed, 4001);
  assert.ok(frames.some((f) => f.event === 'jwt error'));
  assert.equal((await call('GET', '/api/system')).status, 200, 'daemon still serving');
  assert.equal(daemon.proc.exitCode, null);
  // A well-formed socket still authenticates afterwards.
  const ok = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const okFrames: string[] = [];
  ok.on('message', (d) => okFrames.push(JSON.parse(d.toString()).event));
  await new Promise((r) => ok.once('open', r));
  ok.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] })] }));
  await waitUntil(() => okFrames.includes('auth success'), 5000, 'auth success');
  ok.close();
});

test('a token valid for longer than setTimeout can count is not expired at once', async () => {
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const events: string[] = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString()).event));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] }, 60 * 24 * 3600)] }));
  await waitUntil(() => events.includes('auth success'), 5000, 'auth success');
  // Round trip through the daemon so any immediately-firing timer has had its turn.
  const pong = new Promise((r) => ws.once('message', r));
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] }, 60 * 24 * 3600)] }));
  await pong;
  await waitUntil(() => events.filter((e) => e === 'auth success').length === 2, 5000, 'second auth success');
  assert.ok(!events.includes('token expired'), events.join(','));
  assert.ok(!events.includes('token expiring'), events.join(','));
  ws.close();
});

test('a body over the 1 MiB limit is 413 saying so, not a parse error', async () => {
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: uuid(), ignore: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(res.status, 413);
  assert.match(res.json.error, /too large/i);
  assert.equal(typeof res.json.request_id, 'string');
});

test('an undecodable path escape is a 400 in the daemon error shape, with a request id', async () => {
  for (const path of [`/api/servers/%ZZ/backup`, `/api/servers/${SERVER}/backup/%E0%A4%A`]) {
    const res = await call('DELETE', path);
    assert.equal(res.status, 400, path);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(typeof res.json.error, 'string');
    assert.equal(res.json.request_id, res.headers.get('x-request-id'));
  }
});

test('truncate removes links that point outside, never their targets; restored links stay links', async () => {
  const outside = join(dir.path, 'sentinel-dir');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'keep.txt'), 'sentinel dir content');
  const sentinel = join(dir.path, 'sentinel.txt');
  writeFileSync(sentinel, 'sentinel content');
  writeTree(serverDir, { 'world/level.dat': 'level' });
  symlinkSync(outside, join(serverDir, 'dir-link'));
  symlinkSync(sentinel, join(serverDir, 'file-link'));
  symlinkSync(outside, join(serverDir, 'world', 'nested-link'));
  symlinkSync('level.dat', join(serverDir, 'world', 'inside-link'));
  const id = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '*.bin' })).status, 202);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${id}`, 30_000)).body.successful, true);
  writeTree(serverDir, { 'extra.txt': 'goes away' });

  const res = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(res.status, 202, res.text);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${id}/restore`)).body.successful, true);
  assert.equal(readFileSync(sentinel, 'utf8'), 'sentinel content');
  assert.deepEqual(readdirSync(outside), ['keep.txt']);
  assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'sentinel dir content');
  assert.ok(!existsSync(join(serverDir, 'extra.txt')), 'truncated');
  assert.equal(readFileSync(join(serverDir, 'world/level.dat'), 'utf8'), 'level');
  assert.ok(lstatSync(join(serverDir, 'world/inside-link')).isSymbolicLink(), 'a link inside the server comes back as a link');
  assert.equal(readlinkSync(join(serverDir, 'world/inside-link')), 'level.dat');
  // Links leaving the server are skipped by extraction (or kept as links), never materialised.
  for (const link of ['dir-link', 'file-link', 'world/nested-link']) {
    const st = lstatSync(join(serverDir, link), { throwIfNoEntry: false });
    assert.ok(!st || st.isSymbolicLink(), `${link} is absent or a link`);
  }
  // A merge restore whose entries go through those links must not write outside either.
  panel.blobs.set('through-links', {
    status: 200,
    contentType: 'application/gzip',
    body: buildTarGz([{ name: 'dir-link/evil.txt', content: 'x' }, { name: 'file-link', content: 'overwrite' }, { name: 'world/nested-link/evil.txt', content: 'x' }]),
  });
  const through = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${through}/restore`, { adapter: 's3', truncate_directory: false, download_url: `${panel.url}/blob/through-links` })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${through}/restore`);
  assert.deepEqual(readdirSync(outside), ['keep.txt']);
  assert.equal(readFileSync(sentinel, 'utf8'), 'sentinel content');
  await call('DELETE', `/api/servers/${SERVER}/backup/${id}`);
});

test('a local restore holds its archive open: deleting the backup right after the 202 cannot strand an emptied server', async () => {
  writeTree(serverDir, { 'data/one.txt': 'one', 'data/two.txt': 'two' });
  const id = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${id}`, 30_000)).body.successful, true);
  writeTree(serverDir, { 'data/three.txt': 'three' });
  const [restore, del] = await Promise.all([
    call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true }),
    call('DELETE', `/api/servers/${SERVER}/backup/${id}`),
  ]);
  assert.equal(del.status, 204);
  if (restore.status === 202) {
    // Truncated, so the archive must have been opened first and restored in full.
    assert.equal((await panel.waitForReport((r) => r.path === `/backups/${id}/restore`)).body.successful, true);
    assert.equal(readFileSync(join(serverDir, 'data/one.txt'), 'utf8'), 'one');
    assert.equal(readFileSync(join(serverDir, 'data/two.txt'), 'utf8'), 'two');
    assert.ok(!existsSync(join(serverDir, 'data/three.txt')));
  } else {
    // The DELETE won: refused before truncation, nothing touched.
    assert.equal(restore.status, 404, restore.text);
    assert.equal(readFileSync(join(serverDir, 'data/three.txt'), 'utf8'), 'three');
  }
  assert.ok(!existsSync(join(daemon.backups, `${id}.tar.gz`)));
});

test('a download racing a DELETE is a clean 404 or a complete body, never a 500; HEAD and 416 do not burn the token', async () => {
  writeTree(serverDir, { 'dl.bin': random(256 * 1024) });
  for (let round = 0; round < 3; round++) {
    const id = uuid();
    assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' })).status, 202);
    const report = await panel.waitForReport((r) => r.path === `/backups/${id}`, 30_000);
    if (round === 0) {
      const probe = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id });
      const head = await fetch(`${daemon.url}/download/backup?token=${probe}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      const bad = await fetch(`${daemon.url}/download/backup?token=${probe}`, { headers: { range: `bytes=${report.body.size + 10}-` } });
      assert.equal(bad.status, 416);
      await bad.arrayBuffer();
      const full = await fetch(`${daemon.url}/download/backup?token=${probe}`);
      assert.equal(full.status, 200, 'HEAD and 416 left the token unused');
      assert.equal((await full.arrayBuffer()).byteLength, report.body.size);
    }
    const token = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id });
    const [dl, del] = await Promise.all([
      fetch(`${daemon.url}/download/backup?token=${token}`).then(async (r) => ({ status: r.status, length: r.headers.get('content-length'), body: Buffer.from(await r.arrayBuffer()) })),
      call('DELETE', `/api/servers/${SERVER}/backup/${id}`),
    ]);
    assert.equal(del.status, 204);
    assert.ok(dl.status === 200 || dl.status === 404, `status ${dl.status}`);
    if (dl.status === 200) {
      assert.equal(dl.body.length, report.body.size);
      assert.equal(Number(dl.length), report.body.size);
    }
  }
});

test('crash recovery reports each interrupted job exactly once and leaves no archive claiming success', async () => {
  await daemon.stop();
  const jobsDir = join(daemon.state, 'jobs');
  const outboxDir = join(daemon.state, 'outbox');
  const entry = (backup: string, kind = 'backup', adapter = 'wings') =>
    JSON.stringify({ kind, server_uuid: SERVER, backup_uuid: backup, adapter, started_at: new Date().toISOString() });
  // 1. Died after the archive and its sidecar were in place, before the report was queued.
  const renamed = uuid();
  writeFileSync(join(jobsDir, `backup-${renamed}-0001.json`), entry(renamed));
  writeFileSync(join(daemon.backups, `${renamed}.tar.gz`), buildTarGz([{ name: 'a', content: 'a' }]));
  writeFileSync(join(daemon.backups, `${renamed}.json`), JSON.stringify({ server_uuid: SERVER, checksum: 'x', checksum_type: 'sha256', size: 1, created_at: '' }));
  // 2. Died after queueing its (successful) report, before dropping its journal entry.
  const queued = uuid();
  const queuedJob = `backup-${queued}-0002.json`;
  writeFileSync(join(jobsDir, queuedJob), entry(queued));
  writeFileSync(join(daemon.backups, `${queued}.tar.gz`), buildTarGz([{ name: 'b', content: 'b' }]));
  writeFileSync(join(daemon.backups, `${queued}.json`), JSON.stringify({ server_uuid: SERVER, checksum: 'y', checksum_type: 'sha256', size: 1, created_at: '' }));
  const success = { successful: true, checksum: 'y', checksum_type: 'sha256', size: 1, parts: null };
  writeFileSync(join(outboxDir, `000000000000001-aaaaaaaa.json`), JSON.stringify({ path: `/backups/${queued}`, body: success, created_at: '', job: queuedJob }));
  // 3. Same for a restore.
  const restored = uuid();
  const restoreJob = `restore-${restored}-0003.json`;
  writeFileSync(join(jobsDir, restoreJob), entry(restored, 'restore', 's3'));
  writeFileSync(join(outboxDir, `000000000000002-bbbbbbbb.json`), JSON.stringify({ path: `/backups/${restored}/restore`, body: { successful: true }, created_at: '', job: restoreJob }));

  daemon = await startDaemon();
  call = api(daemon.url, panel.token);
  await waitUntil(() => readdirSync(outboxDir).length === 0, 15_000, 'outbox drained');
  const of = (path: string) => panel.reports.filter((r) => r.path === path).map((r) => r.body);
  assert.deepEqual(of(`/backups/${renamed}`), [{ successful: false, checksum: '', checksum_type: '', size: 0, parts: null, failure_reason: 'interrupted: the daemon was restarted' }]);
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.startsWith(renamed)), [], 'failed backup left nothing');
  assert.deepEqual(of(`/backups/${queued}`), [success]);
  assert.ok(existsSync(join(daemon.backups, `${queued}.tar.gz`)), 'reported backup kept');
  assert.deepEqual(of(`/backups/${restored}/restore`), [{ successful: true }]);
  assert.deepEqual(jobs(), []);
});

test('every finished job leaves no journal entry, no temp file and no spooled part', async () => {
  writeTree(serverDir, { 'c.bin': random(64 * 1024) });
  const ok = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: ok, ignore: '' })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${ok}`, 30_000);
  panel.blobs.set('bad-gzip', { status: 200, contentType: 'application/gzip', body: Buffer.from('not gzip at all') });
  const bad = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${bad}/restore`, { adapter: 's3', truncate_directory: false, download_url: `${panel.url}/blob/bad-gzip` })).status, 202);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${bad}/restore`)).body.successful, false);
  await waitUntil(async () => (await call('GET', '/api/system')).json.running_restores === 0, 5000, 'restore released');
  await waitUntil(() => jobs().length === 0, 5000, 'journal empty');
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.endsWith('.tmp')), []);
  // The restoring state is gone: a backup of the server is accepted again.
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: uuid(), ignore: '*.bin' })).status, 202);
});
