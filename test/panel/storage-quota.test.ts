/**
 * The storage quota per server (issue 17), real daemon, SQLite and PostgreSQL: set through the
 * application API beside the count limit and shown to users; refused up front when the last
 * backup's size says another cannot fit; a manual backup over quota at completion fails with the
 * reason and its archive is removed; a scheduled one rotates the oldest unlocked backups out to fit,
 * and is refused up front when the locked ones alone leave no room; the count limit still holds.
 * Scheduled re-verification (same stack, first): many due backups are read back one at a time on the
 * node, never-verified first, bandwidth-limited, yielding to backups; none while a backup runs; two
 * schedules (two panels) on one database split the work through the node's lease, never verifying twice.
 * Node default ignore patterns (same file, same stack): set by the admin, merged with the server's
 * .pteroignore and the request's patterns into the archive, every source shown; game type (egg)
 * defaults the same way, between the node's and the server's own.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createArchiveFile, listArchive } from '../../src/archive/index.ts';
import type { DaemonVerifyRequest } from '../../src/wire/daemon-api.ts';
import { VerificationSchedule } from '../../src/panel/services/verification-schedule.ts';
import { join } from 'node:path';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();
const MiB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;

for (const db of dbs) {
  describe(`storage quota (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;
    let adminKey: string;
    let vol: string;
    // The schedule's clock: real time, moved on by the scheduled-verification test.
    let now = Date.now();
    const calls: Array<{ backup: string; body: DaemonVerifyRequest; start: number; end: number }> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let seq = 0;
    const client = (p = '') => `/api/client/servers/${server.identifier}${p}`;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), clock: () => new Date(now), env: { BACKUP_THROTTLE_PERIOD: '0', BACKUP_VERIFY_READ_LIMIT: '104857600', BACKUP_VERIFY_INTERVAL_DAYS: '7' } });
      const daemon = h.ctx.deps.daemon;
      const real = daemon.verifyBackup.bind(daemon);
      daemon.verifyBackup = async (node, srv, backup, body, timeoutMs) => {
        const start = ++seq;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await real(node, srv, backup, body, timeoutMs);
        } finally {
          inFlight--;
          calls.push({ backup, body, start, end: ++seq });
        }
      };
      adminKey = (await h.user(`admin-${db.name}@example.com`, { rootAdmin: true, type: 'application' })).key;
      server = await h.server(h.owner.id, { backupLimit: 3 });
      vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      writeFileSync(join(vol, 'a.bin'), randomBytes(MiB));
    });
    after(async () => {
      await h?.close();
    });

    const limits = async (fl: Record<string, unknown>) => {
      const r = await h.api('PATCH', `/api/application/servers/${server.id}/build`, { key: adminKey, body: { feature_limits: fl } });
      assert.equal(r.status, 200, r.text);
      return r.body.attributes.feature_limits;
    };
    const done = async (uuid: string) => waitFor(`backup ${uuid} completed`, async () => {
      const b = await h.backup(uuid);
      return b?.completed_at ? b : null;
    });
    const manual = async () => {
      const r = await h.api('POST', client('/backups'), { body: {} });
      assert.equal(r.status, 200, r.text);
      return done(r.body.attributes.uuid as string);
    };
    const scheduled = async () => done((await h.ctx.services.backups.create({ server, node: h.node }, {}, null)).uuid);

    // First in the file: the schedule looks at every backup on the node.
    test('scheduled re-verification: eight due backups on one node are verified one at a time, never-verified first', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 20 });
      const src = mkdtempSync(join(tmpdir(), 'bw-schedule-src-'));
      writeFileSync(join(src, 'data.bin'), randomBytes(256 * 1024));
      mkdirSync(join(h.daemonRoot!, 'backups'), { recursive: true });
      const uuids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const row = await h.fixtureBackup(server, { disk: 'wings', createdAt: new Date(now - (10 - i) * DAY).toISOString() });
        const made = await createArchiveFile(src, join(h.daemonRoot!, 'backups', `${row.uuid}.tar.gz`));
        await h.ctx.repos.backups.update(row.id, { checksum: `sha256:${made.checksum}`, bytes: made.size }, row.created_at);
        uuids.push(row.uuid);
      }
      rmSync(src, { recursive: true, force: true });
      // One was verified recently (not due), one long ago (due, but after the never-verified ones).
      const recent = (await h.backup(uuids[0]!))!;
      await h.ctx.repos.backups.recordVerification(recent.id, 'good', null, new Date(now - DAY).toISOString());
      const old = (await h.backup(uuids[1]!))!;
      await h.ctx.repos.backups.recordVerification(old.id, 'good', null, new Date(now - 30 * DAY).toISOString());

      const schedule = new VerificationSchedule(h.ctx.deps, h.ctx.services.verification);
      assert.equal(await schedule.runOnce(), 7);
      assert.equal(maxInFlight, 1, 'never two verifications at once on a node');
      for (let i = 1; i < calls.length; i++) assert.ok(calls[i]!.start > calls[i - 1]!.end, 'each starts after the previous ended');
      assert.deepEqual(calls.map((c) => c.backup), [...uuids.slice(2), uuids[1]], 'never verified (oldest backup first), then the longest ago');
      for (const c of calls) {
        assert.equal(c.body.read_limit, 104857600, 'bandwidth-limited');
        assert.equal(c.body.yield_to_backups, true, 'yields to backups on the node');
      }
      for (const uuid of uuids.slice(1)) {
        const b = (await h.backup(uuid))!;
        assert.equal(b.verification, 'good');
        assert.equal(b.verified_at, new Date(now).toISOString());
      }

      calls.length = 0;
      assert.equal(await schedule.runOnce(), 0, 'nothing due right after');
      now += 8 * DAY;
      // A backup running on the node: the schedule leaves the node alone.
      const running = await h.fixtureBackup(server, { completed: false });
      assert.equal(await schedule.runOnce(), 0);
      assert.equal(calls.length, 0);
      await h.ctx.repos.backups.markFailed([running.id], new Date(now).toISOString(), 'test');
      assert.equal(await schedule.runOnce(), 8, 'all due again once the interval passed');
      assert.equal(maxInFlight, 1);
    });

    test('scheduled re-verification on several panels sharing the database: each due backup is read back once, one at a time', async () => {
      // Two schedules = two panel processes (each its own lease holder) on this one database.
      const a = new VerificationSchedule(h.ctx.deps, h.ctx.services.verification);
      const b = new VerificationSchedule(h.ctx.deps, h.ctx.services.verification);
      assert.notEqual(a.holder, b.holder);
      now += 8 * DAY;
      const due = (await h.ctx.repos.backups.findDueForVerification(h.node.id, new Date(now - 7 * DAY).toISOString(), 100)).map((x) => x.uuid);
      assert.ok(due.length >= 8, `backups due again (${due.length})`);
      // A process that holds the node's lease (and may be dead): nobody else verifies there until it ends.
      const at = new Date(now).toISOString();
      assert.equal(await h.ctx.repos.verificationLeases.claim(h.node.id, 'another-panel', at, new Date(now + 3600_000).toISOString()), true);
      calls.length = 0;
      maxInFlight = 0;
      assert.deepEqual(await Promise.all([a.runOnce(), b.runOnce()]), [0, 0], 'the lease is held elsewhere');
      assert.equal(calls.length, 0);
      now += 2 * 3600_000;
      const [na, nb] = await Promise.all([a.runOnce(), b.runOnce()]);
      assert.equal(na + nb, due.length, `every due backup verified (${na} + ${nb})`);
      assert.ok(na === 0 || nb === 0, 'one process had the node for the round');
      assert.deepEqual(calls.map((c) => c.backup).sort(), [...due].sort(), 'each backup read back exactly once');
      assert.equal(maxInFlight, 1, 'one at a time on the node across panels');
      assert.deepEqual(await Promise.all([a.runOnce(), b.runOnce()]), [0, 0], 'nothing due in the same round');
    });

    test('quota and count together: shown, refused up front, failed and removed at completion, rotated for schedules', async () => {
      const b1 = await manual();
      assert.equal(b1.is_successful, 1);
      const s1 = Number(b1.bytes);
      const quota = Math.floor(2.5 * s1);
      assert.deepEqual(await limits({ backups: 3, backup_bytes: quota }), { databases: 0, allocations: 0, backups: 3, backup_bytes: quota });
      const shown = await h.api('GET', client());
      assert.equal(shown.body.attributes.feature_limits.backup_bytes, quota);
      const b2 = await manual();
      assert.equal(b2.is_successful, 1);
      const list = await h.api('GET', client('/backups'));
      assert.equal(list.body.meta.backup_bytes, s1 + Number(b2.bytes));

      // used + last > quota: refused before anything is made.
      const refused = await h.api('POST', client('/backups'), { body: {} });
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.errors[0].code, 'BackupStorageQuotaException');
      assert.match(refused.body.errors[0].detail, /so another would not fit/);

      // The last backup was small, this one is not: it fails at completion and leaves nothing.
      assert.equal((await h.api('DELETE', client(`/backups/${b2.uuid}`))).status, 204);
      writeFileSync(join(vol, 'b.bin'), randomBytes(2 * MiB));
      const big = await manual();
      assert.equal(big.is_successful, 0);
      assert.match(big.failure_reason ?? '', /^over the storage quota: .* of .* with this backup/);
      assert.equal(existsSync(join(h.daemonRoot!, 'backups', `${big.uuid}.tar.gz`)), false, 'archive removed');

      // Scheduled: the oldest unlocked backup is rotated out to make room.
      await limits({ backup_bytes: Math.floor(3.5 * s1) });
      const a1 = await scheduled();
      assert.equal(a1.is_successful, 1, a1.failure_reason ?? '');
      assert.ok((await h.backup(b1.uuid))!.deleted_at, 'the oldest unlocked backup was rotated out');
      const entries = (await h.ctx.services.activity.listForServer(server.id, 1, 100)).entries;
      const rotated = entries.find((e) => e.event === 'server:backup.rotate' && e.properties.uuid === b1.uuid);
      assert.equal(rotated?.properties.reason, 'storage quota');

      // Locked backups alone leave no room for another of that size: refused up front, even for a schedule.
      assert.equal((await h.api('POST', client(`/backups/${a1.uuid}/lock`))).status, 200);
      await assert.rejects(h.ctx.services.backups.create({ server, node: h.node }, {}, null), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'BackupStorageQuotaException');
        assert.match(err.message, /locked backups take/);
        return true;
      });

      // The count limit still holds when the bytes would fit.
      await limits({ backups: 1, backup_bytes: 0 });
      assert.equal((await h.api('GET', client())).body.attributes.feature_limits.backup_bytes, null);
      const counted = await h.api('POST', client('/backups'), { body: {} });
      assert.equal(counted.status, 400);
      assert.equal(counted.body.errors[0].code, 'TooManyBackupsException');
    });

    test('node defaults: set by the admin, merged below .pteroignore and the request, shown with the backup', async () => {
      const bad = await h.api('PUT', `/api/application/nodes/${h.node.id}/backup-ignore`, { key: adminKey, body: { patterns: 'broken[' } });
      assert.equal(bad.status, 422, bad.text);
      const set = await h.api('PUT', `/api/application/nodes/${h.node.id}/backup-ignore`, { key: adminKey, body: { patterns: 'cache/\n*.log' } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.attributes.backup_ignore, 'cache/\n*.log');
      const other = await h.server(h.owner.id, { backupLimit: 5 });
      const dir = join(h.daemonRoot!, 'volumes', other.uuid);
      mkdirSync(join(dir, 'cache'), { recursive: true });
      writeFileSync(join(dir, 'cache', 'x.bin'), 'cache');
      writeFileSync(join(dir, 'a.log'), 'left out by the node');
      writeFileSync(join(dir, 'keep.log'), 'kept by .pteroignore');
      writeFileSync(join(dir, 'world.dat'), 'world');
      writeFileSync(join(dir, 'world.tmp'), 'left out by the request');
      writeFileSync(join(dir, '.pteroignore'), '!keep.log\n');
      const file = await h.api('GET', `/api/client/servers/${other.identifier}/backups/ignore-file`);
      assert.deepEqual(file.body.attributes.node_defaults, ['cache/', '*.log']);
      assert.equal(file.body.attributes.content, '!keep.log\n');
      const created = await h.api('POST', `/api/client/servers/${other.identifier}/backups`, { body: { ignored: 'world.tmp' } });
      assert.equal(created.status, 200, created.text);
      const row = await done(created.body.attributes.uuid as string);
      assert.equal(row.is_successful, 1, row.failure_reason ?? '');
      const names: string[] = [];
      for await (const e of listArchive(createReadStream(join(h.daemonRoot!, 'backups', `${row.uuid}.tar.gz`)))) if (e.type === 'file') names.push(e.name);
      assert.deepEqual(names.sort(), ['.pteroignore', 'keep.log', 'world.dat']);
      const shown = await h.api('GET', `/api/client/servers/${other.identifier}/backups/${row.uuid}`);
      assert.deepEqual(shown.body.attributes.ignore_defaults, ['cache/', '*.log']);
      assert.deepEqual(shown.body.attributes.ignored_files, ['world.tmp']);
      const cleared = await h.api('PUT', `/api/application/nodes/${h.node.id}/backup-ignore`, { key: adminKey, body: { patterns: null } });
      assert.equal(cleared.body.attributes.backup_ignore, null);
    });

    test('egg defaults: servers carry a game type; its patterns merge between the node defaults and .pteroignore, every source shown', async () => {
      const app = (method: string, path: string, body?: unknown) => h.api(method, `/api/application${path}`, { key: adminKey, body });
      assert.equal((await app('PUT', '/eggs/7', { backup_ignore: '*.dmp' })).status, 422, 'a new egg needs a name');
      assert.equal((await app('PUT', '/eggs/7', { name: 'ARK', backup_ignore: 'broken[' })).status, 422);
      const egg = await app('PUT', '/eggs/7', { name: 'ARK: Survival Evolved', nest: 3, backup_ignore: '!egg.log\n*.dmp' });
      assert.equal(egg.status, 200, egg.text);
      assert.deepEqual(egg.body.attributes, { id: 7, nest: 3, name: 'ARK: Survival Evolved', backup_ignore: '!egg.log\n*.dmp' });
      assert.deepEqual((await app('GET', '/eggs')).body.data.map((e: { attributes: { id: number } }) => e.attributes.id), [7]);
      assert.equal((await app('PUT', `/nodes/${h.node.id}/backup-ignore`, { patterns: '*.log' })).status, 200);
      const bad = await app('POST', '/servers', { name: 'no such egg', user: h.owner.id, node: h.node.id, egg: 99, feature_limits: { backups: 3 } });
      assert.equal(bad.status, 422, bad.text);
      const made = await app('POST', '/servers', { name: 'ark', user: h.owner.id, node: h.node.id, egg: 7, feature_limits: { backups: 3 } });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.attributes.egg, 7);
      assert.equal(made.body.attributes.nest, 3);
      const ark = (await h.ctx.repos.servers.findById(made.body.attributes.id as number))!;
      const dir = join(h.daemonRoot!, 'volumes', ark.uuid);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'a.log'), 'left out by the node');
      writeFileSync(join(dir, 'egg.log'), 'kept by the egg (after the node)');
      writeFileSync(join(dir, 'crash.dmp'), 'left out by the egg');
      writeFileSync(join(dir, 'keep.dmp'), 'kept by .pteroignore (after the egg)');
      writeFileSync(join(dir, 'world.tmp'), 'left out by the request');
      writeFileSync(join(dir, 'world.dat'), 'world');
      writeFileSync(join(dir, '.pteroignore'), '!keep.dmp\n');
      const file = await h.api('GET', `/api/client/servers/${ark.identifier}/backups/ignore-file`);
      assert.deepEqual(file.body.attributes.node_defaults, ['*.log']);
      assert.deepEqual(file.body.attributes.egg_defaults, ['!egg.log', '*.dmp']);
      const created = await h.api('POST', `/api/client/servers/${ark.identifier}/backups`, { body: { ignored: 'world.tmp' } });
      assert.equal(created.status, 200, created.text);
      const row = await done(created.body.attributes.uuid as string);
      assert.equal(row.is_successful, 1, row.failure_reason ?? '');
      const names: string[] = [];
      for await (const e of listArchive(createReadStream(join(h.daemonRoot!, 'backups', `${row.uuid}.tar.gz`)))) if (e.type === 'file') names.push(e.name);
      assert.deepEqual(names.sort(), ['.pteroignore', 'egg.log', 'keep.dmp', 'world.dat']);
      const shown = await h.api('GET', `/api/client/servers/${ark.identifier}/backups/${row.uuid}`);
      assert.deepEqual(shown.body.attributes.ignore_defaults, ['*.log']);
      assert.deepEqual(shown.body.attributes.ignore_egg_defaults, ['!egg.log', '*.dmp']);
      // The egg is changed like upstream's (PATCH startup); 0 = none, and an unknown one is refused.
      assert.equal((await app('PATCH', `/servers/${ark.id}/startup`, { egg: 99 })).status, 422);
      const none = await app('PATCH', `/servers/${ark.id}/startup`, { egg: 0, startup: 'ignored' });
      assert.equal(none.status, 200, none.text);
      assert.equal(none.body.attributes.egg, 0);
      assert.deepEqual((await h.api('GET', `/api/client/servers/${ark.identifier}/backups/ignore-file`)).body.attributes.egg_defaults, []);
      await app('PATCH', `/servers/${ark.id}/startup`, { egg: 7 });
      assert.equal((await app('DELETE', '/eggs/7')).status, 204);
      assert.equal((await app('GET', `/servers/${ark.id}`)).body.attributes.egg, 0, 'a deleted egg leaves its servers without one');
      await app('PUT', `/nodes/${h.node.id}/backup-ignore`, { patterns: null });
    });
  });
}
