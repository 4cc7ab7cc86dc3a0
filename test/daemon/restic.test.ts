/**
 * The restic adapter end to end on real daemons and the real restic: node A backs a server up
 * into a repository, node B (another daemon, another data directory) restores it from the same
 * repository with the same password; the report carries the snapshot fields; ignore rules,
 * forget, and the failure reasons (wrong password, negation in .pteroignore, bad requests).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, readTree, random } from './support/helpers.ts';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { listArchive } from '../../src/archive/index.ts';
import { sealResticClaim } from '../../src/core/restic-claim.ts';

const SERVER = uuid();
let panel: FakePanel;
let nodeA: DaemonProcess;
let nodeB: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let callA: ReturnType<typeof api>;
let callB: ReturnType<typeof api>;
let repo: { repository: string; password: string };

const files = {
  'server.properties': 'motd=hello\n',
  'world/level.dat': random(4096),
  'world/region/r.0.0.mca': random(300_000),
  'world/region/r.0.1.mca': random(300_000),
  'logs/latest.log': 'noise\n',
  'debug.log': 'more noise\n',
  '.pteroignore': 'logs/\n',
};

function snapshots(tag: string): Array<{ id: string; tags: string[] }> {
  return JSON.parse(execFileSync('restic', ['snapshots', '--json', '--tag', tag], { env: { ...process.env, RESTIC_REPOSITORY: repo.repository, RESTIC_PASSWORD: repo.password }, encoding: 'utf8' }));
}

async function backup(call: ReturnType<typeof api>, id: string, body: Record<string, unknown> = {}) {
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: id, ignore: '*.log', restic: repo, ...body });
  assert.equal(res.status, 202, res.text);
  return panel.waitForReport((r) => r.path === `/backups/${id}`, 60_000);
}

before(async () => {
  dir = tempDir('bw-restic-');
  repo = { repository: join(dir.path, 'repo'), password: 'generated-by-the-panel-0123456789' };
  panel = await startFakePanel({ servers: [SERVER] });
  [nodeA, nodeB] = await Promise.all(['a', 'b'].map((n) => startDaemonProcess({ root: join(dir.path, n), panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, logLevel: 'info' })));
  callA = api(nodeA.url, panel.token);
  callB = api(nodeB.url, panel.token);
  for (const call of [callA, callB]) await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  writeTree(join(nodeA.data, SERVER), files);
});

after(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await panel?.close();
  dir?.cleanup();
});

test('node A backs up into a new repository; the report has the snapshot, bytes added and repository size; a 2% change adds little', async () => {
  const first = uuid();
  const report = await backup(callA, first);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  assert.match(report.body.snapshot_id, /^[0-9a-f]{8,64}$/);
  assert.ok(report.body.bytes_added > 600_000, `bytes_added ${report.body.bytes_added}`);
  assert.equal(report.body.size, report.body.bytes_added);
  assert.ok(report.body.repository_size >= report.body.bytes_added * 0.9, `repository_size ${report.body.repository_size}`);
  const [snap] = snapshots(`backup:${first}`);
  assert.deepEqual(snap!.tags.sort(), [`backup:${first}`, `server:${SERVER}`].sort());
  // The password never reaches a log line.
  assert.equal(nodeA.stderr().includes(repo.password), false);

  writeFileSync(join(nodeA.data, SERVER, 'world/region/r.0.1.mca'), random(12_000));
  // Progress flows to the websocket like any backup's: the last frame is exact (restic's own count).
  const ws = await watch(nodeA);
  const frames = ws.frames;
  const secondId = uuid();
  const second = await backup(callA, secondId);
  assert.equal(second.body.successful, true, second.body.failure_reason);
  assert.ok(second.body.bytes_added < report.body.bytes_added / 10, `second added ${second.body.bytes_added}`);
  await waitUntil(() => frames.some((f) => f.event === 'backup completed'), 5000, 'backup completed event');
  ws.close();
  const progress = frames.filter((f) => f.event === 'backup progress').map((f) => JSON.parse(f.args[0]!)).filter((p) => p.uuid === secondId);
  // Not ignored: server.properties 11 + level.dat 4096 + r.0.0 300000 + r.0.1 12000 + .pteroignore 6.
  assert.deepEqual({ ...progress[progress.length - 1], total_source: undefined }, { uuid: secondId, bytes_read: 316_113, bytes_written: second.body.bytes_added, files_done: 5, total_bytes: 316_113, total_source: undefined });
});

test('node B restores node A\'s backup from the same repository (truncate): ignored files were never in it, nothing is left staged', async () => {
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const target = join(nodeB.data, SERVER);
  writeTree(target, { 'stale.txt': 'left from before', 'world/level.dat': 'old' });
  const res = await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', truncate_directory: true, restic: repo });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 60_000);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  const expected = readTree(join(nodeA.data, SERVER));
  delete expected['logs/latest.log'];
  delete expected['debug.log'];
  assert.deepEqual(readTree(target), expected);
  assert.deepEqual(readdirSync(target).filter((n) => n.startsWith('.backwing-')), []);
  assert.equal(existsSync(join(target, 'logs')), true, 'a dir-only rule keeps the directory, empty');
  assert.deepEqual(readdirSync(join(target, 'logs')), []);
});

test('download: a .tar.gz streamed from restic dump through gzip, named by the panel, one-time; a claim sealed for another node is refused', async () => {
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const claims = { server_uuid: SERVER, backup_uuid: id, file_name: 'my-world-abcd1234.tar.gz', restic: sealResticClaim(panel.token, repo) };
  const token = await panel.signDownload(claims);
  const head = await fetch(`${nodeB.url}/download/backup?token=${token}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  const res = await fetch(`${nodeB.url}/download/backup?token=${token}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/gzip');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="my-world-abcd1234.tar.gz"');
  const body = Buffer.from(await res.arrayBuffer());
  const names: string[] = [];
  for await (const e of listArchive(Readable.from([body]))) if (e.type === 'file') names.push(e.name.replace(/^\/+/, ''));
  assert.deepEqual(names.sort(), ['.pteroignore', 'server.properties', 'world/level.dat', 'world/region/r.0.0.mca', 'world/region/r.0.1.mca']);
  assert.equal((await fetch(`${nodeB.url}/download/backup?token=${token}`)).status, 404, 'the link is one-time');
  const forged = await panel.signDownload({ ...claims, restic: sealResticClaim('another-node-token', repo) });
  assert.equal((await fetch(`${nodeB.url}/download/backup?token=${forged}`)).status, 403);
});

/** Opens a websocket on `node` for SERVER and collects its frames. */
async function watch(node: DaemonProcess): Promise<{ frames: { event: string; args: string[] }[]; close: () => void }> {
  const ws = new WebSocket(`${node.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const frames: { event: string; args: string[] }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['backup.read'] })] }));
  await waitUntil(() => frames.length > 0, 5000, 'auth answer');
  return { frames, close: () => ws.close() };
}

/** The restore progress payloads of one backup, in order. */
function restoreFrames(frames: { event: string; args: string[] }[], id: string) {
  return frames.filter((f) => f.event === 'backup restore progress').map((f) => JSON.parse(f.args[0]!)).filter((p) => p.uuid === id);
}

/** Frames never go back, the first says 0 at once, the last is exactly the total. */
function assertRisesToExactTotal(progress: Array<{ bytes_read: number; bytes_written: number; total_bytes: number | null }>, total: number) {
  assert.ok(progress.length >= 2, `frames: ${JSON.stringify(progress)}`);
  assert.equal(progress[0]!.bytes_written, 0);
  const withTotal = progress.filter((p) => p.total_bytes !== null);
  for (let i = 1; i < withTotal.length; i++) assert.ok(withTotal[i]!.bytes_written >= withTotal[i - 1]!.bytes_written, `frames go back: ${JSON.stringify(progress)}`);
  for (const p of withTotal) assert.equal(p.total_bytes, total);
  const last = progress[progress.length - 1]!;
  assert.deepEqual([last.bytes_read, last.bytes_written, last.total_bytes], [total, total, total]);
}

test('browse a restic backup on another node (restic ls): list, search, stat, compare, bad paths; one file raw and a folder .tar.gz through one-time links', async () => {
  const weird = 'plugins/we[i]rd*.yml';
  writeTree(join(nodeA.data, SERVER), { [weird]: 'glob: characters in a name\n' });
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const sealed = { 'x-backwing-restic': sealResticClaim(panel.token, repo) };
  const files = (q: string, headers: Record<string, string> = sealed) => callB('GET', `/api/servers/${SERVER}/backup/${id}/files${q}`, undefined, headers);

  const root = await files('');
  assert.equal(root.status, 200, root.text);
  assert.equal(root.json.status, 'ready');
  // Folders first, then files; ignored *.log never in the snapshot; logs/ kept empty (docs/restic.md).
  assert.deepEqual(root.json.entries.map((e: { name: string }) => e.name), ['logs', 'plugins', 'world', '.pteroignore', 'server.properties']);
  const region = await files('?path=world/region');
  assert.deepEqual(region.json.entries.map((e: { path: string; size: number; type: string }) => [e.path, e.type, e.size]), [['world/region/r.0.0.mca', 'file', 300_000], ['world/region/r.0.1.mca', 'file', 12_000]]);
  assert.ok(Date.parse(region.json.entries[0].modified_at) > Date.now() - 3600_000, 'modified_at from the snapshot');
  const search = await files('/search?pattern=*.mca');
  assert.equal(search.json.total, 2);
  const stat = await files('/stat?path=world/level.dat');
  assert.deepEqual([stat.status, stat.json.type, stat.json.size], [200, 'file', 4096]);
  const missing = await files('?path=nether');
  assert.equal(missing.status, 404);
  assert.match(missing.json.error, /"nether" is not in this backup/);
  assert.equal((await files('?path=../etc')).status, 422);
  assert.equal((await files('', { 'x-backwing-restic': sealResticClaim('another-node-token', repo) })).status, 403);
  // A wrong password is restic's stored sentence, never a 500.
  const wrongPassword = await files('', { 'x-backwing-restic': sealResticClaim(panel.token, { ...repo, password: 'not-the-password' }) });
  assert.equal(wrongPassword.status, 502, wrongPassword.text);
  assert.match(wrongPassword.json.error, /refused the password/);

  // compare: the next backup adds a file and changes one.
  writeTree(join(nodeA.data, SERVER), { 'world/level.dat': random(5000), 'world/new.dat': 'new' });
  const next = uuid();
  assert.equal((await backup(callA, next)).body.successful, true);
  const cmp = await callB('GET', `/api/servers/${SERVER}/backup/${id}/compare?with=${next}`, undefined, { ...sealed, 'x-backwing-other-restic': sealed['x-backwing-restic'] });
  assert.equal(cmp.status, 200, cmp.text);
  assert.deepEqual(cmp.json.entries.map((e: { path: string; change: string }) => [e.path, e.change]), [['world/level.dat', 'changed'], ['world/new.dat', 'added']]);

  // One file raw (restic dump), one-time; a name with glob characters; a folder as .tar.gz.
  const link = (path: string) => panel.signDownload({ server_uuid: SERVER, backup_uuid: id, scope: 'backup-file', path, restic: sealed['x-backwing-restic'] });
  const token = await link('world/region/r.0.0.mca');
  const res = await fetch(`${nodeB.url}/download/backup/file?token=${token}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '300000');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(nodeA.data, SERVER, 'world/region/r.0.0.mca'))));
  assert.equal((await fetch(`${nodeB.url}/download/backup/file?token=${token}`)).status, 404, 'used once');
  assert.equal(await (await fetch(`${nodeB.url}/download/backup/file?token=${await link(weird)}`)).text(), 'glob: characters in a name\n');
  const tgz = Buffer.from(await (await fetch(`${nodeB.url}/download/backup/file?token=${await link('world/region')}`)).arrayBuffer());
  const listed = execFileSync('tar', ['-tzf', '-'], { input: tgz }).toString().trim().split('\n');
  assert.deepEqual(listed, ['world/region/r.0.0.mca', 'world/region/r.0.1.mca']);
  const nope = await fetch(`${nodeB.url}/download/backup/file?token=${await link('nope.txt')}`);
  assert.equal(nope.status, 404);
});

test('restore selected paths of a restic backup (restore --include): only those, keep_newer honoured, a link in the way replaced and never followed; progress rises to exactly 100%', async () => {
  const src = join(nodeA.data, SERVER);
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const target = join(nodeB.data, SERVER);
  rmSync(target, { recursive: true, force: true });
  const outside = join(dir.path, 'outside');
  writeTree(outside, { 'keep.txt': 'outside the server' });
  writeTree(target, { 'world/level.dat': 'edited on the server after the backup', 'world/region/r.0.0.mca': 'damaged long ago', 'server.properties': 'untouched' });
  const future = new Date(Date.now() + 3600_000);
  utimesSync(join(target, 'world/level.dat'), future, future);
  const past = new Date('2001-01-01');
  utimesSync(join(target, 'world/region/r.0.0.mca'), past, past);
  symlinkSync(outside, join(target, 'plugins'));

  const bad = await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', restic: repo, paths: ['world', 'gone/file'] });
  assert.equal(bad.status, 404);
  assert.match(bad.json.error, /"gone\/file" is not in this backup/);
  assert.equal((await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', restic: repo, paths: ['../x'] })).status, 422);

  const ws = await watch(nodeB);
  const res = await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', restic: repo, paths: ['world', 'plugins/we[i]rd*.yml'], keep_newer: true, truncate_directory: true });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 60_000);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  await waitUntil(() => ws.frames.some((f) => f.event === 'backup restore completed'), 5000, 'restore completed event');
  ws.close();

  const got = readTree(target);
  const want = readTree(src);
  assert.equal(Buffer.from(got['world/level.dat']!, 'base64').toString(), 'edited on the server after the backup', 'newer on the server: kept');
  assert.equal(got['world/region/r.0.0.mca'], want['world/region/r.0.0.mca'], 'older on the server: restored');
  assert.equal(got['world/new.dat'], want['world/new.dat']);
  assert.equal(got['plugins/we[i]rd*.yml'], want['plugins/we[i]rd*.yml']);
  assert.equal(Buffer.from(got['server.properties']!, 'base64').toString(), 'untouched', 'not selected, not truncated');
  assert.equal(got['.pteroignore'], undefined);
  assert.equal(lstatSync(join(target, 'plugins')).isDirectory(), true, 'the link in the way was replaced');
  assert.deepEqual(readTree(outside), { 'keep.txt': Buffer.from('outside the server').toString('base64') });
  assert.deepEqual(readdirSync(target).filter((n) => n.startsWith('.backwing-')), []);

  // Total: the selected files' sizes from the listing (level.dat counts though it was kept).
  const selected = ['world/level.dat', 'world/new.dat', 'world/region/r.0.0.mca', 'world/region/r.0.1.mca', 'plugins/we[i]rd*.yml'].reduce((n, p) => n + statSync(join(src, p)).size, 0);
  const progress = restoreFrames(ws.frames, id);
  assertRisesToExactTotal(progress, selected);
  assert.equal(progress[progress.length - 1]!.total_source, 'index');
});

test('a full restic restore reports progress against restic\'s restore size: a first frame at once, an exact 100% at the end', async () => {
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const ws = await watch(nodeB);
  const res = await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', truncate_directory: true, restic: repo });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 60_000);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  await waitUntil(() => ws.frames.some((f) => f.event === 'backup restore completed'), 5000, 'restore completed event');
  ws.close();
  const restored = Object.values(readTree(join(nodeB.data, SERVER))).reduce((n, b64) => n + Buffer.from(b64, 'base64').length, 0);
  const progress = restoreFrames(ws.frames, id);
  assertRisesToExactTotal(progress, restored);
  assert.equal(progress[progress.length - 1]!.total_source, 'archive');
  assert.ok(progress[progress.length - 1]!.files_done >= 6);
});

test('delete forgets the snapshot; a restore of it is then a 404', async () => {
  const id = uuid();
  assert.equal((await backup(callA, id)).body.successful, true);
  const del = await callA('DELETE', `/api/servers/${SERVER}/backup/${id}`, { adapter: 'restic', restic: repo });
  assert.equal(del.status, 204, del.text);
  assert.deepEqual(snapshots(`backup:${id}`), []);
  const res = await callB('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', restic: repo });
  assert.equal(res.status, 404);
});

test('maintenance route: check (read-data subset) and prune run on the repository and answer when done', async () => {
  const check = await callA('POST', '/api/backwing/restic/maintenance', { action: 'check', read_data_subset: '50%', restic: repo });
  assert.equal(check.status, 200, check.text);
  assert.equal(check.json.ok, true, check.json.message);
  const prune = await callA('POST', '/api/backwing/restic/maintenance', { action: 'prune', restic: repo });
  assert.equal(prune.json.ok, true, prune.json.message);
  const wrong = await callA('POST', '/api/backwing/restic/maintenance', { action: 'check', restic: { ...repo, password: 'nope' } });
  assert.deepEqual([wrong.status, wrong.json.ok, wrong.json.message], [200, false, 'the restic repository refused the password (wrong password or no such key)']);
  const metrics = await fetch(`${nodeA.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /backwing_daemon_restic_maintenance_total\{action="check",outcome="failed"\} 1/);
});

test('failures: wrong password and a .pteroignore negation are stored reasons; bad requests are 400s', async () => {
  const wrong = await backup(callA, uuid(), { restic: { ...repo, password: 'not-the-password' } });
  assert.equal(wrong.body.successful, false);
  assert.match(wrong.body.failure_reason, /refused the password/);

  writeFileSync(join(nodeA.data, SERVER, '.pteroignore'), 'logs/\n!logs/latest.log\n');
  const negated = await backup(callA, uuid());
  assert.equal(negated.body.successful, false);
  assert.match(negated.body.failure_reason, /\.pteroignore pattern "!logs\/latest\.log" re-includes files/);
  writeFileSync(join(nodeA.data, SERVER, '.pteroignore'), 'logs/\n');

  const noRepo = await callA('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: uuid() });
  assert.equal(noRepo.status, 400);
  assert.match(noRepo.json.error, /restic field is required/);
  const negInRequest = await callA('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: uuid(), ignore: '*\n!world/', restic: repo });
  assert.equal(negInRequest.status, 400);
  assert.match(negInRequest.json.error, /re-includes files/);
  const relative = await callA('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: uuid(), restic: { ...repo, repository: 'relative/path' } });
  assert.equal(relative.status, 400);
});

test('a restic restore cut short by a daemon crash: after the restart its staging directory is gone and it is reported failed', async () => {
  const id = uuid();
  const staging = join(nodeB.data, SERVER, `.backwing-restore-${id}`);
  mkdirSync(join(staging, 'world'), { recursive: true });
  writeFileSync(join(staging, 'world', 'half.dat'), 'half restored');
  await nodeB.kill();
  writeFileSync(join(nodeB.state, 'jobs', `restore-${id}-deadbeef.json`), JSON.stringify({ kind: 'restore', server_uuid: SERVER, backup_uuid: id, adapter: 'restic', started_at: new Date().toISOString() }));
  nodeB = await startDaemonProcess({ root: join(dir.path, 'b'), panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, logLevel: 'info' });
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 30_000);
  assert.deepEqual(report.body, { successful: false, failure_reason: 'interrupted: the daemon was restarted' });
  assert.equal(existsSync(staging), false);
});
