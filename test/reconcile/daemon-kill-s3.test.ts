/**
 * Issue 12, the S3 upload crash window on the daemon side: `kill -9` of the daemon process while
 * an archive streams to S3 (part 1 uploaded, part 2 spooling). After the restart the backup is
 * reported failed with the reason, the spooled parts are gone, and the inventory the panel's
 * reconciler reads shows no running job for it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel } from '../daemon/support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from '../daemon/support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from '../daemon/support/helpers.ts';

const SERVER = uuid();
const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('kill -9 during an S3 upload: the restart reports it failed ("interrupted: the daemon was restarted") and holds nothing', async () => {
  const dir = tempDir();
  const panel = await startFakePanel({ servers: [SERVER], s3: { extendable: true } });
  cleanups.push(() => dir.cleanup(), () => panel.close());
  const start = async () => {
    const d = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, writeLimitMiB: 1 });
    cleanups.push(() => d.kill());
    await waitUntil(async () => (await api(d.url, panel.token)('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
    return d;
  };
  let daemon: DaemonProcess = await start();
  writeTree(join(daemon.data, SERVER), { 'world.bin': random(12 * 1024 * 1024) });
  const id = uuid();
  const res = await api(daemon.url, panel.token)('POST', `/api/servers/${SERVER}/backup`, { adapter: 's3', uuid: id, ignore: '' });
  assert.equal(res.status, 202, res.text);
  const spool = (n: number) => existsSync(join(daemon.backups, `${id}.part${n}.tmp`));
  await waitUntil(() => spool(2) && !spool(1), 30_000, 'part 1 uploaded, part 2 spooling');
  await daemon.kill();
  assert.ok(!panel.reports.some((r) => r.path === `/backups/${id}`), 'no report before the restart');

  daemon = await start();
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(report.body.successful, false);
  assert.equal(report.body.failure_reason, 'interrupted: the daemon was restarted');
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.includes(id)), [], 'no spooled part left');
  const inv = await api(daemon.url, panel.token)('GET', '/api/backwing/inventory');
  assert.equal(inv.status, 200, inv.text);
  assert.deepEqual(inv.json.jobs.filter((j: { backup_uuid: string; state: string }) => j.backup_uuid === id && j.state === 'running'), []);
  assert.deepEqual(inv.json.archives, []);
  await daemon.stop();
});
