import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil } from './support/helpers.ts';

const SERVER = uuid();
let panel: FakePanel;
let daemon: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;

before(async () => {
  dir = tempDir();
  panel = await startFakePanel({ servers: [SERVER] });
  daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId });
  call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
});

after(async () => {
  await daemon?.stop();
  await panel?.close();
  dir?.cleanup();
});

test('bearer auth: 401 without/malformed header, 403 wrong token, request ids everywhere', async () => {
  for (const headers of [{ authorization: '' }, { authorization: 'Bearer' }, { authorization: `Token ${panel.token}` }, { authorization: `bearer ${panel.token}` }]) {
    const res = await call('GET', '/api/system', undefined, headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.json.error, 'The required authorization heads were not present in the request.');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.equal(res.json.request_id, res.headers.get('x-request-id'));
  }
  const wrong = await call('GET', '/api/system', undefined, { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.error, 'You are not authorized to access this endpoint.');
  assert.match(wrong.json.request_id, /^[0-9a-f-]{36}$/);
});

test('GET /api/system reports version and health', async () => {
  const res = await call('GET', '/api/system');
  assert.equal(res.status, 200);
  assert.equal(typeof res.json.version, 'string');
  assert.equal(res.json.healthy, true);
  assert.equal(res.json.running_backups, 0);
});

test('servers are loaded from the panel and the boot reset is sent', async () => {
  assert.ok(existsSync(join(daemon.data, SERVER)), 'server directory created');
  await panel.waitForReport((r) => r.path === '/servers/reset');
  assert.ok(panel.remoteCalls.some((c) => c.startsWith('GET /api/remote/servers?page=1')));
  // Wings' panel-client headers, so an upstream panel accepts the daemon.
  const h = panel.lastRemoteHeaders;
  assert.equal(h.authorization, `Bearer ${panel.tokenId}.${panel.token}`);
  assert.equal(h.accept, 'application/vnd.pterodactyl.v1+json');
  assert.equal(h['content-type'], 'application/json');
  assert.match(String(h['user-agent']), new RegExp(`^Pterodactyl Wings/v\\S+ \\(id:${panel.tokenId}\\)`));
});

test('unknown server → 404 with the Wings message; bad uuid → 400', async () => {
  const res = await call('POST', `/api/servers/${uuid()}/backup`, { adapter: 'wings', uuid: uuid(), ignore: '' });
  assert.equal(res.status, 404);
  assert.equal(res.json.error, 'The requested resource does not exist on this instance.');
  for (const bad of ['../target/archive', '0123456789abcdef0123456789abcdef', 'x']) {
    const r = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: bad, ignore: '' });
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.error, 'The backup identifier must be a valid UUID.');
  }
  const unknownRestore = await call('POST', `/api/servers/${uuid()}/backup/${uuid()}/restore`, { adapter: 'wings' });
  assert.equal(unknownRestore.status, 404);
  const unknownDelete = await call('DELETE', `/api/servers/${uuid()}/backup/${uuid()}`);
  assert.equal(unknownDelete.status, 404);
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${uuid()}/ws`);
  ws.on('error', () => undefined);
  const wsStatus = await new Promise<number>((r) =>
    ws.once('unexpected-response', (req, res) => {
      r(res.statusCode ?? 0);
      req.destroy();
    }),
  );
  assert.equal(wsStatus, 404);
  const restore = await call('POST', `/api/servers/${SERVER}/backup/not-a-uuid/restore`, { adapter: 'wings' });
  assert.equal(restore.status, 400);
  const del = await call('DELETE', `/api/servers/${SERVER}/backup/not-a-uuid`);
  assert.equal(del.status, 400);
});

test('bad input is 400, never 500: unknown adapter, bad ignore, bad JSON, empty JSON body', async () => {
  const adapter = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'ftp', uuid: uuid(), ignore: '' });
  assert.equal(adapter.status, 400);
  const manyStars = 'a*'.repeat(20) + 'x';
  const ignore = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: uuid(), ignore: manyStars });
  assert.equal(ignore.status, 400, ignore.text);
  const badJson = await call('POST', `/api/servers/${SERVER}/backup`, '{"adapter":', { 'content-type': 'application/json' });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.json.error, 'The data passed in the request was not in a parsable format. Please try again.');
  const empty = await call('POST', `/api/servers/${SERVER}/backup`, '', { 'content-type': 'application/json' });
  assert.equal(empty.status, 400);
  assert.ok(empty.json.error);
  const s3NoUrl = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 's3', truncate_directory: false });
  assert.equal(s3NoUrl.status, 400);
  assert.equal(s3NoUrl.json.error, 'The download_url field is required when the backup adapter is set to S3.');
  const ftpUrl = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 's3', download_url: 'ftp://127.0.0.1/x' });
  assert.equal(ftpUrl.status, 400);
  const restoreAdapter = await call('POST', `/api/servers/${SERVER}/backup/${uuid()}/restore`, { adapter: 'nope' });
  assert.equal(restoreAdapter.status, 400);
});

test('uppercase uuids are normalised', async () => {
  const res = await call('DELETE', `/api/servers/${SERVER.toUpperCase()}/backup/${uuid().toUpperCase()}`);
  assert.equal(res.status, 404);
  assert.equal(res.json.error, 'The requested backup was not found on this server.');
});

test('POST /api/servers learns a server from the panel; unknown to the panel → 404', async () => {
  const fresh = uuid();
  panel.servers.push(fresh);
  const res = await call('POST', '/api/servers', { uuid: fresh });
  assert.equal(res.status, 202);
  assert.ok(existsSync(join(daemon.data, fresh)));
  const backup = await call('DELETE', `/api/servers/${fresh}/backup/delete-all`);
  assert.equal(backup.status, 204);
  // Pterodactyl clients send a JSON content type with an empty body on DELETE.
  const emptyJson = await call('DELETE', `/api/servers/${fresh}/backup/delete-all`, '', { 'content-type': 'application/json' });
  assert.equal(emptyJson.status, 204);
  assert.equal((await call('POST', '/api/servers', { uuid: 'nope' })).status, 400);
  const unknown = await call('POST', '/api/servers', { uuid: uuid() });
  assert.equal(unknown.status, 404);
});

test('CORS preflight, OpenAPI document and metrics', async () => {
  const pre = await fetch(`${daemon.url}/api/system`, { method: 'OPTIONS', headers: { origin: panel.url } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), panel.url);
  const docs = await fetch(`${daemon.url}/docs/json`);
  assert.equal(docs.status, 200);
  const doc = (await docs.json()) as { paths: Record<string, unknown> };
  for (const p of ['/api/servers/{server}/backup', '/api/servers/{server}/backup/{backup}/restore', '/download/backup', '/api/system']) assert.ok(doc.paths[p], p);
  const metrics = await fetch(`${daemon.url}/metrics`);
  assert.equal(metrics.status, 200);
  const text = await metrics.text();
  for (const name of ['backwing_daemon_backups_total', 'backwing_daemon_jobs_running', 'backwing_daemon_report_queue_depth', 'backwing_daemon_backup_duration_seconds']) {
    assert.ok(text.includes(name), name);
  }
});
