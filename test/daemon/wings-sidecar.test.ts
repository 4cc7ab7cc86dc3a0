/**
 * The drop-in beside Wings, end to end over loopback: the real nginx with the shipped config in
 * front of a Wings stand-in and the real daemon started with `--wings-config`, reporting to a
 * stand-in upstream (Pterodactyl) panel.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import WebSocket from 'ws';
import { tempDir, writeTree, readTree, uuid, gnuTarArchive } from './support/helpers.ts';
import { startUpstreamPanel, type UpstreamPanel } from './support/upstream-panel.ts';
import { startWingsStandin, type WingsStandin } from './support/wings-standin.ts';
import { startSidecarProcess } from './support/daemon-process.ts';
import { startNginx, renderShippedConf, makeCertificate, freePort, type NginxProcess } from './support/nginx.ts';
import { httpRequest } from './support/http-request.ts';

const S1 = uuid();
const S2 = uuid();
/** Known to the panel, but Wings never made its directory: its backups fail. */
const S3 = uuid();
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const BACKUP_ROUTE = /^(POST \/api\/servers\/[^/]+\/backup(\/[^/]+\/restore)?|DELETE \/api\/servers\/[^/]+\/backup\/.+|GET \/download\/backup)$/;

let dir: ReturnType<typeof tempDir>;
let panel: UpstreamPanel;
let wings: WingsStandin;
let daemon: Awaited<ReturnType<typeof startSidecarProcess>>;
let nginx: NginxProcess;
let ca: Buffer;
let data: string;
let backups: string;
let wingsMade: string;
let wingsMadeTree: string;


before(async () => {
  dir = tempDir('bw-sidecar-');
  const { cert, key } = makeCertificate(dir.path);
  ca = readFileSync(cert);
  panel = await startUpstreamPanel({ servers: [S1, S2, S3] });
  wings = await startWingsStandin({ cert: ca, key: readFileSync(key), token: panel.token, panelOrigin: new URL(panel.url).origin });
  const root = join(dir.path, 'lib');
  data = join(root, 'volumes');
  backups = join(root, 'backups');
  mkdirSync(join(data, S1), { recursive: true });
  mkdirSync(join(data, S2), { recursive: true });
  wingsMade = uuid();
  wingsMadeTree = gnuTarArchive(join(backups, `${wingsMade}.tar.gz`), { 'server.properties': 'motd=from wings\n', 'world/level.dat': Buffer.alloc(5000, 7), 'world/region/r.0.0.mca': 'region' }, join(dir.path, 'wings-tree'));
  // Wings' own config.yml as it writes it back at boot (trimmed).
  const config = {
    debug: false,
    uuid: uuid(),
    token_id: panel.tokenId,
    token: panel.token,
    api: { host: '127.0.0.1', port: wings.port, ssl: { enabled: true, cert, key }, upload_limit: 100 },
    system: {
      root_directory: root,
      log_directory: join(root, 'logs'),
      data,
      archive_directory: join(root, 'archives'),
      backup_directory: backups,
      username: 'pterodactyl',
      user: { rootless: { enabled: false, container_uid: 0, container_gid: 0 }, uid: 988, gid: 988 },
      backups: { write_limit: 0, compression_level: 'best_speed' },
      sftp: { bind_address: '0.0.0.0', bind_port: 2022 },
    },
    docker: { network: { name: 'pterodactyl_nw' } },
    remote: panel.url,
    remote_query: { timeout: 5, boot_servers_per_page: 50 },
    allowed_mounts: [],
    allowed_origins: [],
  };
  const cfgPath = join(dir.path, 'config.yml');
  writeFileSync(cfgPath, stringify(config));
  // The sidecar calls Wings itself too (state and power around restores): trust the node's certificate.
  daemon = await startSidecarProcess(cfgPath, ['--listen', '127.0.0.1:0'], { env: { NODE_EXTRA_CA_CERTS: cert } });
  nginx = await startNginx(join(dir.path, 'nginx'), renderShippedConf({
    wings: `127.0.0.1:${wings.port}`,
    backwing: `127.0.0.1:${daemon.listening.port}`,
    listen: `127.0.0.1:${await freePort()}`,
    cert,
    key,
  }));
});

after(async () => {
  await nginx?.stop();
  await daemon?.stop();
  await wings?.close();
  await panel?.close();
  dir?.cleanup();
});

test('a Wings-made archive (GNU tar, no sidecar) is downloaded and restored through the proxy, and adopted for that server only', async () => {
  const node = panel.node(nginx.url, ca);
  panel.addBackup(S1, wingsMade, true);
  const archive = join(backups, `${wingsMade}.tar.gz`);
  const before = readFileSync(archive);

  const dl = await httpRequest(await node.downloadUrl(S1, wingsMade), { ca });
  assert.equal(dl.status, 200, dl.text);
  assert.ok(dl.body.equals(before), 'the archive Wings made, byte for byte');
  assert.match(String(dl.headers['content-disposition']), new RegExp(`${wingsMade}\\.tar\\.gz`));

  writeTree(join(data, S1), { 'stale.txt': 'to be truncated' });
  const res = await node.restore(S1, wingsMade, true);
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${wingsMade}/restore`);
  assert.deepEqual(report.body, { successful: true });
  assert.equal(report.status, 204);
  assert.equal(panel.status.get(S1), null, 'the panel released the server');
  assert.deepEqual(readTree(join(data, S1)), readTree(wingsMadeTree));

  assert.ok(readFileSync(archive).equals(before), 'adoption never touches the archive');
  const sidecar = JSON.parse(readFileSync(join(backups, `${wingsMade}.json`), 'utf8'));
  assert.equal(sidecar.server_uuid, S1);
  assert.ok(sidecar.adopted_at);

  // Adopted for S1: another server cannot name it.
  assert.equal((await httpRequest(await node.downloadUrl(S2, wingsMade), { ca })).status, 404);
  assert.equal((await node.restore(S2, wingsMade, false)).status, 404);
  assert.equal((await node.remove(S2, wingsMade)).status, 404);
  assert.ok(existsSync(archive));
  assert.deepEqual(wings.calls.filter((c) => BACKUP_ROUTE.test(c)), [], 'no backup route reached Wings');
});

test('backup, restore and delete through the proxy are reported to the upstream panel exactly as Wings reports them', async () => {
  const node = panel.node(nginx.url, ca);
  writeTree(join(data, S2), { 'config.yml': 'a: 1\n', 'world/level.dat': Buffer.alloc(20_000, 3) });
  const original = readTree(join(data, S2));

  const { status, uuid: backup } = await node.backup(S2);
  assert.equal(status, 202);
  const report = await panel.waitForReport((r) => r.path === `/backups/${backup}`);
  assert.equal(report.status, 204, JSON.stringify(report));
  assert.deepEqual(Object.keys(report.body).sort(), ['checksum', 'checksum_type', 'parts', 'size', 'successful']);
  const file = readFileSync(join(backups, `${backup}.tar.gz`));
  assert.deepEqual(report.body, { successful: true, checksum: sha1(file), checksum_type: 'sha1', size: file.length, parts: null });
  assert.equal(panel.backups.get(backup)?.checksum, `sha1:${sha1(file)}`);
  // Written as Wings writes: files only, no directory entries (Wings v1.11 cannot restore those),
  // so Wings can restore this backup after switching back.
  const names = execFileSync('tar', ['-tzf', join(backups, `${backup}.tar.gz`)]).toString().split('\n').filter(Boolean).sort();
  assert.deepEqual(names, ['config.yml', 'world/level.dat']);

  writeTree(join(data, S2), { 'config.yml': 'changed', 'extra.txt': 'new' });
  assert.equal((await node.restore(S2, backup, true)).status, 202);
  const restored = await panel.waitForReport((r) => r.path === `/backups/${backup}/restore`);
  assert.deepEqual(restored.body, { successful: true });
  assert.deepEqual(readTree(join(data, S2)), original);

  const del = await node.remove(S2, backup);
  assert.equal(del.status, 204, del.text);
  assert.ok(!existsSync(join(backups, `${backup}.tar.gz`)) && !existsSync(join(backups, `${backup}.json`)));
  assert.equal((await node.remove(S2, backup)).status, 404, 'Wings answers a second delete with 404');

  assert.deepEqual(panel.unknownFields, [], 'no backwing extension reached the upstream panel');
  assert.ok(!panel.reports.some((r) => r.path === '/servers/reset'), "no reset: it would clear Wings' installs too");
  assert.deepEqual(wings.calls.filter((c) => BACKUP_ROUTE.test(c)), [], 'no backup route reached Wings');
});

test('a server created through Wings after the sidecar started is found by asking the panel again', async () => {
  const node = panel.node(nginx.url, ca);
  const S4 = uuid();
  panel.servers.push(S4);
  writeTree(join(data, S4), { 'eula.txt': 'eula=true\n' });
  const { status, uuid: backup } = await node.backup(S4);
  assert.equal(status, 202);
  assert.equal((await panel.waitForReport((r) => r.path === `/backups/${backup}`)).body.successful, true);
  const stranger = await node.restore(uuid(), backup, false);
  assert.equal(stranger.status, 404, 'a server the panel does not list for this node stays unknown');
  assert.match(stranger.text, /The requested resource does not exist on this instance/);
});

test('failures are reported with exactly the fields and values Wings sends', async () => {
  const node = panel.node(nginx.url, ca);
  const { status, uuid: backup } = await node.backup(S3);
  assert.equal(status, 202);
  const report = await panel.waitForReport((r) => r.path === `/backups/${backup}`);
  assert.deepEqual(report.body, { successful: false, checksum: '', checksum_type: '', size: 0, parts: null });
  assert.equal(report.status, 204, 'the upstream panel accepts it');
  assert.equal(panel.backups.get(backup)?.is_successful, false);
  assert.ok(!existsSync(join(backups, `${backup}.tar.gz`)), 'nothing half-made is left');

  const garbage = uuid();
  writeFileSync(join(backups, `${garbage}.tar.gz`), 'not a gzip stream at all');
  panel.addBackup(S3, garbage, true);
  assert.equal((await node.restore(S3, garbage, false)).status, 202);
  const restore = await panel.waitForReport((r) => r.path === `/backups/${garbage}/restore`);
  assert.deepEqual(restore.body, { successful: false });
  assert.equal(panel.status.get(S3), null);
  assert.deepEqual(panel.unknownFields, [], 'no backwing extension reached the upstream panel');
});

test('every other route and the websocket go to Wings', async () => {
  const auth = { authorization: `Bearer ${panel.token}`, 'content-type': 'application/json' };
  const before = wings.calls.length;
  const routes: Array<[string, string, number]> = [
    ['GET', `/api/servers/${S1}`, 200],
    ['POST', `/api/servers/${S1}/power`, 202],
    ['POST', `/api/servers/${S1}/commands`, 204],
    ['GET', '/api/system', 200],
    ['GET', `/api/servers/${S1}/backup`, 200],
    ['POST', `/api/servers/${S1}/files/compress`, 200],
    ['DELETE', `/api/servers/${S1}`, 200],
    ['GET', '/download/file', 200],
    ['POST', '/upload/file', 200],
  ];
  for (const [method, path, expected] of routes) {
    const res = await httpRequest(nginx.url + path, { method, headers: auth, body: method === 'GET' ? undefined : '{}', ca });
    assert.equal(res.status, expected, `${method} ${path}: ${res.text}`);
  }
  assert.deepEqual(wings.calls.slice(before), routes.map(([m, p]) => `${m} ${p}`));

  const origin = new URL(panel.url).origin;
  const ws = new WebSocket(`${nginx.url.replace('https:', 'wss:')}/api/servers/${S1}/ws`, { ca, origin });
  const frames: Array<{ event: string; args?: string[] }> = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ event: 'auth', args: ['jwt'] })));
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)));
      if (frames.length === 2) resolve();
    });
  });
  ws.close();
  assert.deepEqual(frames, [{ event: 'auth success' }, { event: 'status', args: ['running'] }]);
  assert.deepEqual(wings.wsOrigins, [origin], 'the Origin header reaches Wings unchanged');
});

test('the shipped proxy config is what ran: only its marked values were replaced', () => {
  const shipped = readFileSync(new URL('../../deploy/nginx/backwing-sidecar.conf', import.meta.url), 'utf8');
  const strip = (t: string) => t.split('\n').filter((l) => !/server 127\.0\.0\.1:\d+;|listen .* ssl;|ssl_certificate/.test(l)).join('\n');
  assert.equal(strip(nginx.rendered), strip(shipped));
});
