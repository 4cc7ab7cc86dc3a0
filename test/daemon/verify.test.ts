/**
 * Verification on the daemon (issue 17): every local backup is read back before it is reported
 * good, and the verify route reports each kind of damage (flipped byte, truncation, deletion, an S3
 * object replaced by a shorter one) with its reason, without deleting anything. In-process daemon,
 * so a test can damage an archive between its writing and its read-back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, createReadStream, existsSync, readFileSync, writeFileSync, statSync, truncateSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.ts';
import { parseDaemonConfig } from '../../src/daemon/config.ts';
import { startDaemon, type DaemonHandle } from '../../src/daemon/main.ts';
import { verifyTestHooks } from '../../src/daemon/services/verify.service.ts';
import { listArchive } from '../../src/archive/index.ts';
import { FLIPPED_BYTE_REASON, flipByteAt } from '../support/damage.ts';
import { startFakePanel, type FakePanel } from './support/fake-panel.ts';
import { writeDaemonConfig } from './support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from './support/helpers.ts';

const SERVER = uuid();
const MERGE = uuid();
let panel: FakePanel;
let daemon: DaemonHandle;
let dir: ReturnType<typeof tempDir>;
let call: ReturnType<typeof api>;
let backups: string;

/** Several gzip members (1 MiB slices of incompressible data), so damage lands inside one. */
const files = { 'world/region.mca': random(3_500_000), 'server.properties': 'motd=hi\n' };


async function backup(adapter: 'wings' | 's3', id = uuid()) {
  const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter, uuid: id, ignore: '' });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`, 60_000);
  return { id, report: report.body as { successful: boolean; checksum: string; checksum_type: string; size: number; failure_reason?: string } };
}

async function verify(id: string, body: Record<string, unknown>) {
  const res = await call('POST', `/api/servers/${SERVER}/backup/${id}/verify`, body);
  assert.equal(res.status, 200, res.text);
  return res.json as { result: 'good' | 'damaged'; reason: string | null; size: number; checksum: string | null };
}

before(async () => {
  dir = tempDir();
  panel = await startFakePanel({ servers: [SERVER, MERGE], s3: { extendable: true } });
  const text = readFileSync(writeDaemonConfig({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId }), 'utf8');
  daemon = await startDaemon(parseDaemonConfig(text, 'test'), { logger: silentLogger() });
  call = api(daemon.url, panel.token);
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
  backups = join(dir.path, 'backups');
  writeTree(join(dir.path, 'volumes', SERVER), files);
});

after(async () => {
  delete verifyTestHooks.beforeReadBack;
  delete verifyTestHooks.beforeMemberReadBack;
  await daemon?.close();
  await panel?.close();
  dir?.cleanup();
});

test('a local backup is read back before it is reported good', async () => {
  const read: string[] = [];
  const members: Array<{ offset: number; length: number }> = [];
  verifyTestHooks.beforeReadBack = (p) => read.push(p);
  verifyTestHooks.beforeMemberReadBack = (_tmp, m) => members.push(m);
  try {
    const { id, report } = await backup('wings');
    assert.equal(report.successful, true, report.failure_reason);
    assert.deepEqual(read, [join(backups, `${id}.tar.gz`)], 'the stored file was reopened once');
    // Every member was read back as it was stored, together the whole file, and the checksum is the stored file's.
    assert.ok(members.length >= 4, `${members.length} members`);
    assert.equal(members.reduce((at, m) => (assert.equal(m.offset, at), at + m.length), 0), report.size);
    assert.equal(report.checksum, createHash('sha256').update(readFileSync(join(backups, `${id}.tar.gz`))).digest('hex'));
  } finally {
    delete verifyTestHooks.beforeReadBack;
    delete verifyTestHooks.beforeMemberReadBack;
  }
});

test('a member damaged in the file after it was written and before its read-back fails the backup; the archive is removed', async () => {
  verifyTestHooks.beforeMemberReadBack = (tmp, m) => m.index === 2 && flipByteAt(tmp, m.offset + Math.floor(m.length / 2));
  try {
    const { id, report } = await backup('wings');
    assert.equal(report.successful, false);
    assert.match(report.failure_reason ?? '', /^verification failed: gzip member 2 as stored differs from what was written/);
    assert.equal(report.checksum, '');
    assert.equal(existsSync(join(backups, `${id}.tar.gz`)), false);
  } finally {
    delete verifyTestHooks.beforeMemberReadBack;
  }
});

test('bytes added to the stored archive after its read-back: the final look at the file finds them', async () => {
  verifyTestHooks.beforeReadBack = (p) => appendFileSync(p, Buffer.alloc(512));
  try {
    const { id, report } = await backup('wings');
    assert.equal(report.successful, false);
    assert.match(report.failure_reason ?? '', /^verification failed: the stored archive is (\d+) bytes, the backup wrote \d+$/);
    assert.equal(existsSync(join(backups, `${id}.tar.gz`)), false);
  } finally {
    delete verifyTestHooks.beforeReadBack;
  }
});

test('an archive damaged between writing and read-back fails the backup with the reason; nothing is left reported good', async () => {
  verifyTestHooks.beforeReadBack = (p) => flipByteAt(p, Math.floor(statSync(p).size / 2));
  try {
    const { id, report } = await backup('wings');
    assert.equal(report.successful, false);
    assert.match(report.failure_reason ?? '', new RegExp(`^verification failed: ${FLIPPED_BYTE_REASON.source.slice(1)}`));
    assert.equal(report.checksum, '');
    assert.equal(existsSync(join(backups, `${id}.tar.gz`)), false, 'the damaged archive is removed, as any failed backup');
  } finally {
    delete verifyTestHooks.beforeReadBack;
  }
});

test('verify on demand: good, then each fault with its reason; the archive is never deleted', async () => {
  const { id, report } = await backup('wings');
  assert.equal(report.successful, true);
  const expect = { adapter: 'wings', size: report.size, checksum: report.checksum, checksum_type: report.checksum_type };
  const path = join(backups, `${id}.tar.gz`);

  const good = await verify(id, expect);
  assert.equal(good.result, 'good');
  assert.equal(good.checksum, report.checksum);
  assert.equal(good.size, report.size);

  const original = readFileSync(path);
  flipByteAt(path, Math.floor(original.length / 2));
  const flipped = await verify(id, expect);
  assert.equal(flipped.result, 'damaged');
  assert.match(flipped.reason!, FLIPPED_BYTE_REASON);
  assert.ok(existsSync(path), 'a damaged archive is kept');

  // The gzip trailer of the last member: inflates fine up to there, CRC is what catches it.
  writeFileSync(path, original);
  truncateSync(path, original.length - 100);
  const truncated = await verify(id, expect);
  assert.equal(truncated.result, 'damaged');
  assert.match(truncated.reason!, /unexpected end of stream|ended|truncated/i);
  assert.match(truncated.reason!, new RegExp(`of ${report.size} bytes read`));

  // Checksum alone (a well-formed archive, but not the one recorded).
  writeFileSync(path, original);
  const other = await verify(id, { ...expect, checksum: 'a'.repeat(64) });
  assert.equal(other.result, 'damaged');
  assert.match(other.reason!, /^checksum mismatch/);

  rmSync(path);
  const missing = await verify(id, expect);
  assert.deepEqual([missing.result, missing.reason], ['damaged', 'the archive is missing from the node']);
});

test('verify on demand of an S3 backup reads the object through the presigned GET; a shorter object is damaged', async () => {
  const { id, report } = await backup('s3');
  assert.equal(report.successful, true, report.failure_reason);
  const url = await panel.s3PresignGet(id);
  const expect = { adapter: 's3', download_url: url, size: report.size, checksum: report.checksum, checksum_type: report.checksum_type };
  assert.equal((await verify(id, expect)).result, 'good');

  const object = await panel.s3Object(id);
  await panel.s3Put(id, object.subarray(0, object.length - 4096));
  const shorter = await verify(id, { ...expect, download_url: await panel.s3PresignGet(id) });
  assert.equal(shorter.result, 'damaged');
  assert.equal(shorter.reason, `the stored object is ${object.length - 4096} bytes, the backup recorded ${report.size}`);
});

test('verify refuses bad input with a 4xx before reading anything', async () => {
  const id = uuid();
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${id}/verify`, { adapter: 'ftp' })).status, 400);
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/${id}/verify`, { adapter: 's3' })).status, 400);
  assert.equal((await call('POST', `/api/servers/${SERVER}/backup/not-a-uuid/verify`, { adapter: 'wings' })).status, 400);
  assert.equal((await call('POST', `/api/servers/${uuid()}/backup/${id}/verify`, { adapter: 'wings' })).status, 404);
});

test('node defaults, .pteroignore and the request merge in that order (last match wins) into the archive', async () => {
  writeTree(join(dir.path, 'volumes', MERGE), {
    'config.yml': 'a: 1\n',
    'runtime/engine.bin': 'x'.repeat(1000),
    'runtime/keep.txt': 'kept by .pteroignore\n',
    'server.log': 'kept by the request\n',
    'debug.log': 'left out by the node\n',
    'saves/world.dat': 'w',
    'saves/tmp/scratch': 's',
    '.pteroignore': '!runtime/keep.txt\nsaves/tmp/\n',
  });
  const id = uuid();
  const res = await call('POST', `/api/servers/${MERGE}/backup`, { adapter: 'wings', uuid: id, ignore: '!server.log', ignore_defaults: 'runtime/*\n*.log\n' });
  assert.equal(res.status, 202, res.text);
  const report = await panel.waitForReport((r) => r.path === `/backups/${id}`);
  assert.equal(report.body.successful, true, report.body.failure_reason);
  const files: string[] = [];
  for await (const e of listArchive(createReadStream(join(backups, `${id}.tar.gz`)))) if (e.type === 'file') files.push(e.name);
  assert.deepEqual(files.sort(), ['.pteroignore', 'config.yml', 'runtime/keep.txt', 'saves/world.dat', 'server.log']);

  const bad = await call('POST', `/api/servers/${MERGE}/backup`, { adapter: 'wings', uuid: uuid(), ignore: '', ignore_defaults: 'broken[' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /node defaults pattern on line 1/);
});
