/**
 * Progress events carry a total: a backup's first frame goes out at once (with the previous
 * backup's size once there is one), the pre-scan's figure (sizes after ignore rules) follows, and
 * a restore measures against its archive's size, a restore of selected paths against the index's
 * sizes of the files it writes. The percentage only rises and ends at 100.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startFakePanel } from './support/fake-panel.ts';
import { startDaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from './support/helpers.ts';

const SERVER = uuid();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface P { uuid: string; bytes_read: number; bytes_written: number; total_bytes: number | null; total_source?: string }

test('backup and restore progress: totals from scan, previous backup, archive size and (selected paths) the index', async () => {
  const dir = tempDir();
  const panel = await startFakePanel({ servers: [SERVER] });
  cleanups.push(() => dir.cleanup(), () => panel.close());
  const daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, writeLimitMiB: 8 });
  cleanups.push(() => daemon.kill());
  await waitUntil(async () => (await api(daemon.url, panel.token)('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  const serverDir = join(daemon.data, SERVER);
  const pteroignore = 'logs/\n';
  // Many small files (extraction reports progress per entry), enough that the restore's read-ahead
  // of compressed input stays well short of the whole archive.
  writeTree(serverDir, {
    ...Object.fromEntries(Array.from({ length: 384 }, (_, i) => [`world/r${i}.bin`, random(64 * 1024)])),
    'logs/huge.log': random(4 * 1024 * 1024), // ignored by .pteroignore: not in the total
    'skip.tmp': random(1024 * 1024), // ignored by the request
    '.pteroignore': pteroignore,
  });
  const expected = 24 * 1024 * 1024 + pteroignore.length;

  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/api/servers/${SERVER}/ws`);
  cleanups.push(() => ws.close());
  const frames: { event: string; args: string[] }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ event: 'auth', args: [await panel.signWs({ server_uuid: SERVER, user_uuid: uuid(), permissions: ['*'] })] }));
  await waitUntil(() => frames.some((f) => f.event === 'auth success'), 5000, 'auth');
  const of = (event: string, id: string): P[] => frames.filter((f) => f.event === event).map((f) => JSON.parse(f.args[0]!) as P).filter((p) => p.uuid === id);
  const call = api(daemon.url, panel.token);

  // First backup: no history, so the first frame has no total; the scan's total follows.
  const first = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: first, ignore: '*.tmp' })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${first}`);
  await waitUntil(() => frames.some((f) => f.event === 'backup completed'), 5000, 'completed');
  let p = of('backup progress', first);
  assert.equal(p[0]!.bytes_read, 0, 'a frame goes out before any byte is read');
  assert.equal(p[0]!.total_bytes, null);
  const scanned = p.find((x) => x.total_source === 'scan');
  assert.ok(scanned, 'a frame with the pre-scan total');
  assert.equal(scanned.total_bytes, expected, 'sizes after .pteroignore and the request ignore');
  assert.ok(p.indexOf(scanned) < p.length - 1, 'the scan total arrives while the backup still runs');
  const pcts = p.filter((x) => x.total_bytes !== null).map((x) => x.bytes_read / x.total_bytes!);
  for (let i = 1; i < pcts.length; i++) assert.ok(pcts[i]! >= pcts[i - 1]!, `percentage never falls: ${pcts.join(',')}`);
  assert.ok(pcts.some((x) => x > 0 && x < 1), 'an intermediate percentage');
  assert.equal(pcts.at(-1), 1, 'the last frame is 100%');

  // Second backup: the previous backup's size is there from the first frame.
  const second = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: second, ignore: '*.tmp' })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${second}`);
  p = of('backup progress', second);
  assert.equal(p[0]!.total_source, 'previous');
  assert.equal(p[0]!.total_bytes, expected);

  // Restore: measured against the archive's size.
  const archiveSize = statSync(join(daemon.backups, `${second}.tar.gz`)).size;
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${second}/restore`, { adapter: 'wings', truncate_directory: false })).status, 202);
  await panel.waitForReport((r) => r.path === `/backups/${second}/restore`);
  await waitUntil(() => frames.some((f) => f.event === 'backup restore completed'), 5000, 'restore completed');
  const r = of('backup restore progress', second);
  assert.ok(r.length >= 3, `several restore frames (${r.length})`);
  for (const x of r) {
    assert.equal(x.total_source, 'archive');
    assert.equal(x.total_bytes, archiveSize);
  }
  assert.ok(r.some((x) => x.bytes_read > 0 && x.bytes_read < archiveSize), `an intermediate restore frame: ${JSON.stringify(r)}`);
  assert.equal(r.at(-1)!.bytes_read, archiveSize);

  // Restore of selected paths: the index's sizes of the chosen files (the folder expanded), against
  // the bytes written, from the first frame to 100 %.
  const before = frames.length;
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${second}/restore`, { adapter: 'wings', paths: ['world', '.pteroignore'] })).status, 202);
  await waitUntil(() => frames.slice(before).some((f) => f.event === 'backup restore completed'), 30_000, 'selected restore completed');
  const s = frames.slice(before).filter((f) => f.event === 'backup restore progress').map((f) => JSON.parse(f.args[0]!) as P);
  assert.ok(s.length >= 3, `several frames for the selected restore (${s.length})`);
  for (const x of s) {
    assert.equal(x.total_source, 'index');
    assert.equal(x.total_bytes, expected, 'sum of the selected files\' sizes');
  }
  const done = s.map((x) => x.bytes_written / x.total_bytes!);
  for (let i = 1; i < done.length; i++) assert.ok(done[i]! >= done[i - 1]!, `percentage never falls: ${done.join(',')}`);
  assert.ok(done.some((x) => x > 0 && x < 1), `an intermediate frame: ${done.join(',')}`);
  assert.equal(done.at(-1), 1, 'the last frame is 100%');
  await daemon.stop();
});
