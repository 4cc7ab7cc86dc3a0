import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, readTree, random } from './support/helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(extendable: boolean, failPartOnce?: number, failStatus?: number, partSize?: number) {
  const server = uuid();
  const dir = tempDir();
  const panel = await startFakePanel({ servers: [server], s3: { extendable, failPartOnce, failStatus, partSize } });
  // s3_max_part_size 5 MiB: a panel handing out bigger parts still gets 5 MiB ones.
  const daemon = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, s3MaxPartSizeMiB: 5 });
  cleanups.push(() => dir.cleanup(), () => panel.close(), async () => void (await daemon.stop()));
  const call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  const serverDir = join(daemon.data, server);
  // ~12.5 MiB of incompressible data → three 5 MiB parts.
  writeTree(serverDir, {
    'world/region/r.0.0.mca': random(6 * 1024 * 1024),
    'world/region/r.0.1.mca': random(6 * 1024 * 1024),
    'world/level.dat': random(300_000),
    'config/server.yml': 'name: test\n',
    'logs/latest.log': 'ignored\n',
  });
  return { server, dir, panel, daemon, call, serverDir };
}

async function roundTrip(ctx: Awaited<ReturnType<typeof setup>>): Promise<{ report: any; object: Buffer }> {
  const { server, panel, call, serverDir, daemon } = ctx;
  const id = uuid();
  // Watch the spool: never more than s3_part_concurrency (2) uploading plus the one filling.
  let maxSpooled = 0;
  const watcher = setInterval(() => {
    const n = readdirSync(daemon.backups).filter((f) => f.includes('.part')).length;
    maxSpooled = Math.max(maxSpooled, n);
  }, 10);
  const res = await call('POST', `/api/servers/${server}/backup`, { adapter: 's3', uuid: id, ignore: 'logs/' });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`, 60_000).finally(() => clearInterval(watcher));
  assert.ok(maxSpooled <= 3, `at most 3 spooled parts, saw ${maxSpooled}`);
  assert.equal(report.body.successful, true, JSON.stringify(report.body));
  assert.equal(report.body.parts.length, 3);
  assert.deepEqual(report.body.parts.map((p: any) => p.part_number), [1, 2, 3]);
  for (const p of report.body.parts) assert.match(p.etag, /^".+"$/, 'etag kept verbatim, quotes included');
  const object = await panel.s3Object(id);
  assert.equal(object.length, report.body.size);
  assert.deepEqual(readdirSync(daemon.backups).filter((n) => n.endsWith('.tmp')), [], 'no spooled parts left');

  // Restore from the presigned S3 URL into an emptied directory and compare file by file.
  const expected = readTree(serverDir);
  delete expected['logs/latest.log'];
  rmSync(serverDir, { recursive: true, force: true });
  mkdirSync(serverDir);
  writeTree(serverDir, { 'stale.txt': 'will be truncated' });
  const url = await panel.s3PresignGet(id);
  const restore = await call('POST', `/api/servers/${server}/backup/${id}/restore`, { adapter: 's3', truncate_directory: true, download_url: url });
  assert.equal(restore.status, 202, restore.text);
  const done = await panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 60_000);
  assert.equal(done.body.successful, true);
  assert.deepEqual(readTree(serverDir), expected);
  return { report, object };
}

test('s3 (backwing panel, extendable): streamed multipart upload, part 2 fails once and is re-sent with the right bytes; restore round trip', async () => {
  const ctx = await setup(true, 2);
  const { report } = await roundTrip(ctx);
  const part2 = ctx.panel.partRequests.filter((p) => p.part === 2);
  assert.equal(part2.length, 2, JSON.stringify(ctx.panel.partRequests));
  assert.equal(part2[0]!.status, 500);
  assert.equal(part2[1]!.status, 200);
  assert.equal(part2[0]!.bytes, 5 * 1024 * 1024);
  assert.equal(part2[1]!.bytes, 5 * 1024 * 1024);
  // Streaming mode: URLs were requested incrementally, never with the final size up front.
  const sizes = ctx.panel.remoteCalls.filter((c) => c.startsWith('GET /api/remote/backups/')).map((c) => Number(new URL(c.split(' ')[1]!, 'http://x').searchParams.get('size')));
  assert.equal(sizes[0], 1);
  assert.ok(!sizes.includes(report.body.size), 'never needed the final size');
});

test('s3: a panel part size above s3_max_part_size is cut down (bounded spool), parts still complete', async () => {
  const ctx = await setup(true, undefined, undefined, 10 * 1024 * 1024);
  await roundTrip(ctx);
  const sizes = ctx.panel.partRequests.filter((p) => p.status === 200).map((p) => p.bytes);
  assert.equal(sizes[0], 5 * 1024 * 1024);
});

test('s3 (upstream panel, not extendable): falls back to a temp file and uploads with the exact size', async () => {
  const ctx = await setup(false);
  const { report } = await roundTrip(ctx);
  const sizes = ctx.panel.remoteCalls.filter((c) => c.startsWith('GET /api/remote/backups/')).map((c) => Number(new URL(c.split(' ')[1]!, 'http://x').searchParams.get('size')));
  assert.ok(sizes.includes(report.body.size), 'asked with the exact size');
});

test('s3: a 4xx on a part is final — no retry, backup reported failed, nothing left on disk', async () => {
  const ctx = await setup(true, 2, 403);
  const id = uuid();
  assert.equal((await ctx.call('POST', `/api/servers/${ctx.server}/backup`, { adapter: 's3', uuid: id, ignore: '' })).status, 202);
  const report = await ctx.panel.waitForReport((r) => r.path === `/backups/${id}`, 60_000);
  assert.equal(report.body.successful, false);
  assert.equal(ctx.panel.partRequests.filter((p) => p.part === 2).length, 1, 'not retried');
  await waitUntil(() => readdirSync(ctx.daemon.backups).filter((n) => n.endsWith('.tmp')).length === 0, 5000, 'spool cleaned');
});
