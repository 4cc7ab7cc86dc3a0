/**
 * A restic repository on S3 (`s3:http://host:port/bucket/prefix`, path style) against Ceph's
 * radosgw, which checks every request's SigV4 signature: the daemon backs a server up into it,
 * lists and restores the snapshot, forgets it; a wrong secret is a stored failure, never a backup.
 * One radosgw for the file (it takes about 13 s to start).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startRadosgw, type Radosgw } from '../support/radosgw.ts';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { api, random, readTree, tempDir, uuid, waitUntil, writeTree } from './support/helpers.ts';
import { sealResticClaim } from '../../src/core/restic-claim.ts';

const SERVER = uuid();
const BUCKET = 'restic-repos';
let rgw: Radosgw;
let panel: FakePanel;
let node: DaemonProcess;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let repo: { repository: string; password: string; s3: { access_key_id: string; secret_access_key: string; region: string } };

before(async () => {
  dir = tempDir('bw-restic-s3-');
  panel = await startFakePanel({ servers: [SERVER] });
  [rgw, node] = await Promise.all([
    startRadosgw(),
    startDaemonProcess({ root: join(dir.path, 'node'), panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, logLevel: 'info' }),
  ]);
  await rgw.createBucket(BUCKET);
  repo = {
    repository: `s3:${rgw.endpoint}/${BUCKET}/node-1`,
    password: 'generated-by-the-panel-s3-0123456789',
    s3: { access_key_id: rgw.accessKeyId, secret_access_key: rgw.secretAccessKey, region: rgw.region },
  };
  call = api(node.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
});

after(async () => {
  await node?.stop();
  await panel?.close();
  await rgw?.stop();
  dir?.cleanup();
});

test('s3 repository on radosgw: backup, browse, restore and forget; a wrong secret fails the backup with a stored reason', async () => {
  const files = { 'server.properties': 'motd=s3\n', 'world/level.dat': random(4096), 'world/region/r.0.0.mca': random(200_000) };
  const serverDir = join(node.data, SERVER);
  writeTree(serverDir, files);
  const id = uuid();
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: id, restic: repo });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`, 60_000);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  assert.ok(report.body.bytes_added > 200_000, `bytes_added ${report.body.bytes_added}`);
  // The repository lives in the bucket, under its prefix (restic's layout: config, keys, data, ...).
  const s3 = rgw.client();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'node-1/' }));
  s3.destroy();
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  assert.ok(keys.includes('node-1/config'), keys.join(', '));
  assert.ok(keys.some((k) => k.startsWith('node-1/data/')), keys.join(', '));
  assert.equal(node.stderr().includes(rgw.secretAccessKey), false, 'the S3 secret is never logged');

  const sealed = { 'x-backwing-restic': sealResticClaim(panel.token, repo) };
  const region = await call('GET', `/api/servers/${SERVER}/backup/${id}/files?path=world/region`, undefined, sealed);
  assert.equal(region.status, 200, region.text);
  assert.deepEqual(region.json.entries.map((e: { path: string; size: number }) => [e.path, e.size]), [['world/region/r.0.0.mca', 200_000]]);

  rmSync(serverDir, { recursive: true, force: true });
  writeTree(serverDir, { 'stranger.txt': 'not in the backup' });
  const restore = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', truncate_directory: true, restic: repo });
  assert.equal(restore.status, 202, restore.text);
  const restored = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 60_000);
  assert.equal(restored.body.successful, true, restored.body.failure_reason);
  assert.deepEqual(readTree(serverDir), Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')])));
  assert.deepEqual(readdirSync(serverDir).filter((n) => n.startsWith('.backwing-')), []);

  const del = await call('DELETE', `/api/servers/${SERVER}/backup/${id}`, { adapter: 'restic', restic: repo });
  assert.equal(del.status, 204, del.text);
  const gone = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'restic', restic: repo });
  assert.equal(gone.status, 404, 'forgotten: nothing to restore');

  const wrong = uuid();
  const bad = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'restic', uuid: wrong, restic: { ...repo, s3: { ...repo.s3, secret_access_key: 'not-the-secret' } } });
  assert.equal(bad.status, 202, bad.text);
  const refused = await panel.waitForReport((r) => r.path === `/backups/${wrong}`, 60_000);
  assert.equal(refused.body.successful, false, 'never a backup');
  assert.equal(node.stderr().includes('not-the-secret'), false);
  assert.match(refused.body.failure_reason, /S3 server refused the credentials/, node.stderr().slice(-3000));
});
