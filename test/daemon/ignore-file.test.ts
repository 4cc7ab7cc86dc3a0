/**
 * `GET /api/servers/:server/ignore-file` (backwing extension) reads .pteroignore the safe way:
 * a symbolic link is not followed, a FIFO never blocks the call, more than 32 KiB is refused unread.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel } from './support/fake-panel.ts';
import { startDaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil } from './support/helpers.ts';

const SERVER = uuid();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('.pteroignore through the daemon: present, absent, symlink, FIFO, too large, unknown server', async () => {
  const dir = tempDir();
  const panel = await startFakePanel({ servers: [SERVER] });
  cleanups.push(() => dir.cleanup(), () => panel.close());
  const daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId });
  cleanups.push(() => daemon.kill());
  const call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  const serverDir = join(daemon.data, SERVER);
  const file = join(serverDir, '.pteroignore');
  const get = () => call('GET', `/api/servers/${SERVER}/ignore-file`);

  let r = await get();
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { state: 'absent', content: '', size: 0 });

  writeFileSync(file, 'logs/\n*.tmp\n');
  r = await get();
  assert.deepEqual(r.json, { state: 'present', content: 'logs/\n*.tmp\n', size: 12 });

  rmSync(file);
  writeFileSync(join(dir.path, 'secret.txt'), 'not yours');
  symlinkSync(join(dir.path, 'secret.txt'), file);
  r = await get();
  assert.deepEqual(r.json, { state: 'symlink', content: '', size: 0 }, 'a link is not followed');

  rmSync(file);
  execFileSync('mkfifo', [file]);
  r = await get();
  assert.deepEqual(r.json, { state: 'not_a_file', content: '', size: 0 }, 'a FIFO is not read (and does not block)');

  rmSync(file);
  writeFileSync(file, 'x'.repeat(40 * 1024));
  r = await get();
  assert.equal(r.json.state, 'too_large');
  assert.equal(r.json.content, '');

  r = await call('GET', `/api/servers/${uuid()}/ignore-file`);
  assert.equal(r.status, 404);
  const noAuth = await api(daemon.url, 'wrong')('GET', `/api/servers/${SERVER}/ignore-file`);
  assert.equal(noAuth.status, 403);
  await daemon.stop();
});
