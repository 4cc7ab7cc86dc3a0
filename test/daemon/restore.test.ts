import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, readTree } from './support/helpers.ts';
import { buildTarGz } from './support/hostile-tar.ts';

const SERVER = uuid();
let panel: FakePanel;
let daemon: DaemonProcess;
let strict: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let strictDir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let serverDir: string;

before(async () => {
  dir = tempDir();
  strictDir = tempDir();
  panel = await startFakePanel({ servers: [SERVER] });
  [daemon, strict] = await Promise.all([
    startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId }),
    // Only the hostname "localhost" is allowed: loopback IPs and redirects to them must be refused.
    startDaemonProcess({ root: strictDir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, allowlist: ['localhost'] }),
  ]);
  call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  await waitUntil(async () => (await api(strict.url, panel.token)('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  serverDir = join(daemon.data, SERVER);
});

after(async () => {
  await Promise.all([daemon?.stop(), strict?.stop()]);
  await panel?.close();
  dir?.cleanup();
  strictDir?.cleanup();
});

const restore = (c: ReturnType<typeof api>, backup: string, url: string, truncate = false) =>
  c('POST', `/api/servers/${SERVER}/backup/${backup}/restore`, { adapter: 's3', truncate_directory: truncate, download_url: url });

test('SSRF: loopback, private, metadata and bracketed IPv6 targets are refused without an allow-list; nothing truncated', async () => {
  const strictCall = api(strict.url, panel.token);
  writeTree(join(strict.data, SERVER), { 'keep.txt': 'keep' });
  panel.blobs.set('ok', { status: 200, contentType: 'application/gzip', body: buildTarGz([{ name: 'a.txt', content: 'a' }]) });
  const port = new URL(panel.url).port;
  for (const url of [
    `${panel.url}/blob/ok`,
    // An allowed host that redirects to a blocked address: every hop is checked.
    `http://localhost:${port}/redirect-abs?to=${encodeURIComponent(`${panel.url}/blob/ok`)}`,
    'http://10.0.0.1/x',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/x',
    'http://198.18.0.1/x',
    'http://[::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://0.0.0.0/x',
  ]) {
    const res = await restore(strictCall, uuid(), url, true);
    assert.equal(res.status, 400, url);
    assert.equal(res.json.error, 'The provided backup link resolves to a blocked address.', url);
  }
  assert.ok(existsSync(join(strict.data, SERVER, 'keep.txt')), 'refusal happened before truncation');
  // The allow-listed hostname itself is accepted even though it resolves to loopback.
  const byName = uuid();
  assert.equal((await restore(strictCall, byName, `http://localhost:${port}/blob/ok`)).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${byName}/restore` && r.body.successful === true);
  // The allow-listed daemon accepts the same URL.
  const okId = uuid();
  const ok = await restore(call, okId, `${panel.url}/blob/ok`);
  assert.equal(ok.status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${okId}/restore` && r.body.successful === true);
});

test('restore source checks: non-200 → 400, non-gzip content type → 400, media type parameters allowed, redirects followed up to 10', async () => {
  writeTree(serverDir, { 'keep.txt': 'keep' });
  const gz = buildTarGz([{ name: 'from-s3.txt', content: 'hello' }]);
  panel.blobs.set('missing', { status: 404, contentType: 'application/gzip', body: gz });
  panel.blobs.set('html', { status: 200, contentType: 'text/html', body: gz });
  panel.blobs.set('sub', { status: 200, contentType: 'gzip', body: gz });
  panel.blobs.set('params', { status: 200, contentType: 'application/x-gzip; charset=binary', body: gz });
  panel.blobs.set('redirect-target', { status: 200, contentType: 'application/gzip', body: gz });

  const notFound = await restore(call, uuid(), `${panel.url}/blob/missing`, true);
  assert.equal(notFound.status, 400);
  assert.equal(notFound.json.error, 'The provided backup link returned an invalid response status: 404');
  const html = await restore(call, uuid(), `${panel.url}/blob/html`, true);
  assert.equal(html.status, 400);
  assert.match(html.json.error, /not a supported content type/);
  assert.equal((await restore(call, uuid(), `${panel.url}/blob/sub`, true)).status, 400, 'substring "gzip" is not a gzip media type');
  assert.ok(existsSync(join(serverDir, 'keep.txt')), 'nothing truncated by refused restores');
  assert.equal((await restore(call, uuid(), 'not a url')).status, 400);

  const id = uuid();
  assert.equal((await restore(call, id, `${panel.url}/blob/params`)).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
  assert.equal(readFileSync(join(serverDir, 'from-s3.txt'), 'utf8'), 'hello');

  const hops = uuid();
  assert.equal((await restore(call, hops, `${panel.url}/redirect/9`)).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${hops}/restore`);
  const tooMany = await restore(call, uuid(), `${panel.url}/redirect/11`);
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.json.error, 'The provided backup link redirects too many times.');
});

test('hostile archives: nothing is written outside the server directory', async () => {
  const outside = join(dir.path, 'outside');
  mkdirSync(outside, { recursive: true });
  // A pre-existing symlink inside the server dir pointing outside must not be written through.
  symlinkSync(outside, join(serverDir, 'escape-link'));
  const cases = [
    [{ name: '../evil.txt', content: 'x' }],
    [{ name: 'a/../../evil.txt', content: 'x' }],
    [{ name: '/abs-evil.txt', content: 'x' }],
    [{ name: 'escape-link/evil.txt', content: 'x' }],
    [{ name: 'sym', type: 'symlink' as const, linkname: outside }, { name: 'sym/evil.txt', content: 'x' }],
    [{ name: 'rel', type: 'symlink' as const, linkname: '../outside' }, { name: 'rel/evil.txt', content: 'x' }],
    [{ name: 'hard', type: 'hardlink' as const, linkname: '../outside/target' }],
  ];
  for (const [i, entries] of cases.entries()) {
    const name = `hostile-${i}`;
    panel.blobs.set(name, { status: 200, contentType: 'application/gzip', body: buildTarGz(entries) });
    const id = uuid();
    const res = await restore(call, id, `${panel.url}/blob/${name}`);
    assert.equal(res.status, 202, res.text);
    const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
    assert.equal(typeof report.body.successful, 'boolean');
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing appeared outside');
  assert.ok(!existsSync(join(dir.path, 'evil.txt')));
  assert.ok(!existsSync(join(daemon.data, 'evil.txt')));
  assert.ok(!existsSync('/abs-evil.txt'));
  assert.ok(lstatSync(join(serverDir, 'escape-link')).isSymbolicLink());
});

test('while a restore runs the server is restoring: other restores and backups get 409; state clears afterwards', async () => {
  const body = buildTarGz([{ name: 'slow.bin', content: Buffer.alloc(600_000, 7) }]);
  // gzip squeezes zeros; trickle the compressed bytes slowly instead.
  panel.blobs.set('slow', { status: 200, contentType: 'application/gzip', body, rate: Math.max(200, Math.floor(body.length / 2)) });
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  const frames: { event: string; args: string[] }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: [] })] }));
  await waitUntil(() => frames.some((f) => f.event === 'auth success'), 5000, 'auth');
  const id = uuid();
  assert.equal((await restore(call, id, `${panel.url}/blob/slow`)).status, 202);
  const second = await restore(call, uuid(), `${panel.url}/blob/slow`);
  assert.equal(second.status, 409);
  const backup = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: uuid(), ignore: '' });
  assert.equal(backup.status, 409);
  const sys = await call('GET', '/api/system');
  assert.equal(sys.json.running_restores, 1);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`);
  assert.equal(report.body.successful, true);
  await waitUntil(async () => (await call('GET', '/api/system')).json.running_restores === 0, 5000, 'restore cleared');
  const afterId = uuid();
  const after = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: afterId, ignore: '' });
  assert.equal(after.status, 202);
  // A running backup blocks restores of this server: let it finish before the next test restores.
  await panel.waitForReport((r) => r.path === `/backups/${afterId}`, 30_000);
  assert.ok(readTree(serverDir)['slow.bin']);
  // Restore events need no backup permission.
  await waitUntil(() => frames.some((f) => f.event === 'backup restore completed'), 5000, 'restore completed event');
  const progress = frames.filter((f) => f.event === 'backup restore progress').map((f) => JSON.parse(f.args[0]!));
  assert.ok(progress.length >= 1, 'restore progress published');
  assert.equal(progress[0].uuid, id);
  ws.close();
});

test('a stalled restore download fails after the idle timeout instead of hanging; state clears', async () => {
  const body = buildTarGz(Array.from({ length: 4 }, (_, i) => ({ name: `s${i}.bin`, content: Buffer.alloc(100_000, i) })));
  panel.blobs.set('stall', { status: 200, contentType: 'application/gzip', body, stallAfter: Math.floor(body.length / 2) });
  const id = uuid();
  assert.equal((await restore(call, id, `${panel.url}/blob/stall`)).status, 202);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 15_000);
  assert.equal(report.body.successful, false);
  await waitUntil(async () => (await call('GET', '/api/system')).json.running_restores === 0, 5000, 'restore cleared');
});
