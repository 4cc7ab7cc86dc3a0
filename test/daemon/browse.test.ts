import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, utimesSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random, gnuTarArchive } from './support/helpers.ts';
import { decodeIndex, encodeIndex } from '../../src/archive/backup-index.ts';

const SERVER = uuid();
let panel: FakePanel;
let daemon: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let serverDir: string;
let backupId: string;

const big = random(300_000);
const files: Record<string, string | Buffer> = {
  'server.properties': 'motd=hello\n',
  'world/level.dat': random(4096),
  'world/region/r.0.0.mca': big,
  'plugins/a.yml': 'a: 1\n',
  'plugins/b.yml': 'b: 2\n',
  'plugins/cfg/deep.yml': 'deep: true\n',
};
for (let i = 0; i < 30; i++) files[`many/f${String(i).padStart(2, '0')}.txt`] = `file ${i}\n`;

before(async () => {
  dir = tempDir();
  panel = await startFakePanel({ servers: [SERVER] });
  daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId });
  call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  serverDir = join(daemon.data, SERVER);
  writeTree(serverDir, files);
  backupId = uuid();
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: backupId });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${backupId}`);
  assert.equal(report.body.successful, true);
});

after(async () => {
  await daemon?.stop();
  await panel?.close();
  dir?.cleanup();
});

const files_ = (id: string, query: string) => call('GET', `/api/servers/${SERVER}/backup/${id}/files${query}`);

test('a local backup gets its index beside it in the same pass; folders list page by page, names search', async () => {
  assert.ok(existsSync(join(daemon.backups, `${backupId}.idx`)), 'the index is written beside the archive');
  const inv = await call('GET', '/api/backwing/inventory');
  const mine = inv.json.archives.find((a: { uuid: string }) => a.uuid === backupId);
  assert.ok(mine.index_size > 0, 'the inventory counts the index');

  const root = await files_(backupId, '');
  assert.equal(root.status, 200, root.text);
  assert.equal(root.json.status, 'ready');
  assert.deepEqual(root.json.entries.map((e: { name: string }) => e.name), ['many', 'plugins', 'world', 'server.properties']);
  const region = await files_(backupId, '?path=world/region');
  const mca = region.json.entries[0];
  assert.equal(mca.path, 'world/region/r.0.0.mca');
  assert.equal(mca.size, big.length);
  assert.equal(mca.type, 'file');
  assert.match(mca.modified_at, /^\d{4}-\d\d-\d\dT/);

  const p1 = await files_(backupId, '?path=many&per_page=20');
  const p2 = await files_(backupId, '?path=many/&per_page=20&page=2');
  assert.equal(p1.json.total, 30);
  assert.equal(p1.json.entries.length, 20);
  assert.equal(p2.json.entries.length, 10);
  assert.equal(p2.json.entries[0].name, 'f20.txt');

  const found = await call('GET', `/api/servers/${SERVER}/backup/${backupId}/files/search?pattern=*.YML`);
  assert.deepEqual(found.json.entries.map((e: { path: string }) => e.path).sort(), ['plugins/a.yml', 'plugins/b.yml', 'plugins/cfg/deep.yml']);

  // Bad input: not there → 404 naming it; climbing, NUL, absolute → 422.
  const missing = await files_(backupId, '?path=world/nether');
  assert.equal(missing.status, 404);
  assert.match(missing.json.error, /"world\/nether" is not in this backup/);
  for (const bad of ['../etc', 'world/../../x', '/etc', 'a%00b']) {
    const r = await files_(backupId, `?path=${bad}`);
    assert.equal(r.status, 422, `${bad}: ${r.text}`);
  }
});

test('one file downloads raw and a folder as a .tar.gz of just that subtree, through one-time file tokens', async () => {
  const token = await panel.signDownload({ server_uuid: SERVER, backup_uuid: backupId, scope: 'backup-file', path: 'world/region/r.0.0.mca' });
  const res = await fetch(`${daemon.url}/download/backup/file?token=${token}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="r.0.0.mca"; filename*=UTF-8''r.0.0.mca`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(big));
  assert.equal((await fetch(`${daemon.url}/download/backup/file?token=${token}`)).status, 404, 'used once');

  const dirToken = await panel.signDownload({ server_uuid: SERVER, backup_uuid: backupId, scope: 'backup-file', path: 'plugins' });
  const tgz = Buffer.from(await (await fetch(`${daemon.url}/download/backup/file?token=${dirToken}`)).arrayBuffer());
  const listed = execFileSync('tar', ['-tf', '-'], { input: gunzipSync(tgz) }).toString().trim().split('\n');
  assert.deepEqual(listed, ['plugins/', 'plugins/a.yml', 'plugins/b.yml', 'plugins/cfg/', 'plugins/cfg/deep.yml']);

  // A whole-backup token does not open single files, and a file token names only what is there.
  const whole = await panel.signDownload({ server_uuid: SERVER, backup_uuid: backupId, path: 'plugins/a.yml' });
  assert.equal((await fetch(`${daemon.url}/download/backup/file?token=${whole}`)).status, 403);
  const nope = await panel.signDownload({ server_uuid: SERVER, backup_uuid: backupId, scope: 'backup-file', path: 'nope.txt' });
  const r404 = await fetch(`${daemon.url}/download/backup/file?token=${nope}`);
  assert.equal(r404.status, 404);
  assert.match((await r404.json()).error, /"nope.txt" is not in this backup/);
});

test('restoring selected paths restores only them, keeps newer files when asked, and reports like a full restore', async () => {
  writeFileSync(join(serverDir, 'plugins/a.yml'), 'a: broken\n');
  // Damaged long ago (older than the backup): restored even with keep_newer.
  const past = new Date(Date.now() - 86400_000);
  utimesSync(join(serverDir, 'plugins/a.yml'), past, past);
  writeFileSync(join(serverDir, 'plugins/cfg/deep.yml'), 'deep: edited later\n');
  const future = new Date(Date.now() + 3600_000);
  utimesSync(join(serverDir, 'plugins/cfg/deep.yml'), future, future);
  writeFileSync(join(serverDir, 'server.properties'), 'motd=changed\n');
  writeFileSync(join(serverDir, 'new-since.txt'), 'keep me\n');

  const bad = await call('POST', `/api/servers/${SERVER}/backup/${backupId}/restore`, { adapter: 'wings', paths: ['plugins', 'gone/file'] });
  assert.equal(bad.status, 404);
  assert.match(bad.json.error, /"gone\/file" is not in this backup/);
  const climb = await call('POST', `/api/servers/${SERVER}/backup/${backupId}/restore`, { adapter: 'wings', paths: ['../x'] });
  assert.equal(climb.status, 422);

  const res = await call('POST', `/api/servers/${SERVER}/backup/${backupId}/restore`, { adapter: 'wings', paths: ['plugins'], keep_newer: true, truncate_directory: true });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${backupId}/restore`);
  assert.equal(report.body.successful, true);
  assert.equal(readFileSync(join(serverDir, 'plugins/a.yml'), 'utf8'), 'a: 1\n', 'restored');
  assert.equal(readFileSync(join(serverDir, 'plugins/cfg/deep.yml'), 'utf8'), 'deep: edited later\n', 'newer file kept');
  assert.equal(readFileSync(join(serverDir, 'server.properties'), 'utf8'), 'motd=changed\n', 'outside the selection: untouched');
  assert.equal(readFileSync(join(serverDir, 'new-since.txt'), 'utf8'), 'keep me\n', 'never truncated');
});

test('an index that disagrees with the archive fails the read with a clear error and is rebuilt', async () => {
  const id = uuid();
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id });
  assert.equal(res.status, 202, res.text);
  await panel.waitForReport((r) => r.path === `/backups/${id}`);
  const idx = join(daemon.backups, `${id}.idx`);
  // Same archive size and shape, but two names swapped: the headers found are not the ones named.
  const ix = decodeIndex(readFileSync(idx));
  const a = ix.entries.findIndex((e) => e.path === 'plugins/a.yml');
  const b = ix.entries.findIndex((e) => e.path === 'plugins/b.yml');
  [ix.entries[a]!.path, ix.entries[b]!.path] = [ix.entries[b]!.path, ix.entries[a]!.path];
  writeFileSync(idx, encodeIndex(ix));
  const later = new Date(Date.now() + 5000);
  utimesSync(idx, later, later);
  const token = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id, scope: 'backup-file', path: 'plugins/a.yml' });
  const bad = await fetch(`${daemon.url}/download/backup/file?token=${token}`);
  assert.equal(bad.status, 409);
  assert.match((await bad.json()).error, /does not match the archive .*rebuilt/);
  await waitUntil(async () => decodeIndex(readFileSync(idx)).slice === 0, 15_000, 'index rebuilt from the archive');
  const again = await panel.signDownload({ server_uuid: SERVER, backup_uuid: id, scope: 'backup-file', path: 'plugins/a.yml' });
  const good = await fetch(`${daemon.url}/download/backup/file?token=${again}`);
  assert.equal(good.status, 200);
  assert.equal(await good.text(), 'a: 1\n');
});

test('an archive without an index (GNU tar) gets one on first browse, which says it is building; a damaged index is rebuilt', async () => {
  const id = uuid();
  gnuTarArchive(join(daemon.backups, `${id}.tar.gz`), { 'level.dat': 'wings world', 'mods/x.jar': 'jar' }, join(dir.path, 'gnu-tree'));
  const first = await files_(id, '');
  assert.equal(first.status, 202, first.text);
  assert.equal(first.json.status, 'building');
  let ready: Awaited<ReturnType<typeof files_>> | null = null;
  await waitUntil(async () => (ready = await files_(id, '?path=mods')).status === 200, 15_000, 'index built');
  assert.deepEqual(ready!.json.entries.map((e: { name: string }) => e.name), ['x.jar']);
  const idx = join(daemon.backups, `${id}.idx`);
  assert.ok(existsSync(idx), 'the built index is kept');

  // Damaged: never trusted, rebuilt from the archive.
  const bytes = readFileSync(idx);
  bytes[bytes.length - 6] ^= 0xff;
  writeFileSync(idx, bytes);
  const later = new Date(Date.now() + 5000);
  utimesSync(idx, later, later);
  assert.equal((await files_(id, '')).status, 202);
  await waitUntil(async () => (await files_(id, '')).status === 200, 15_000, 'index rebuilt');
  assert.notDeepEqual(readFileSync(idx), bytes);

  // Deleted with the backup.
  assert.equal((await call('DELETE', `/api/servers/${SERVER}/backup/${id}`)).status, 204);
  assert.ok(!existsSync(idx));
  assert.ok(statSync(join(daemon.backups, `${backupId}.idx`)).size > 0);
});
