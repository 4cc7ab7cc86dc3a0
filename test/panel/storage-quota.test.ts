/**
 * The storage quota per server (issue 17), real daemon, SQLite and PostgreSQL: set through the
 * application API beside the count limit and shown to users; refused up front when the last
 * backup's size says another cannot fit; a manual backup over quota at completion fails with the
 * reason and its archive is removed; a scheduled one rotates the oldest unlocked backups out to fit,
 * and is refused up front when the locked ones alone leave no room; the count limit still holds.
 * Scheduled re-verification (same stack, first): many due backups are read back one at a time on the
 * node, never-verified first, bandwidth-limited, yielding to backups; none while a backup runs.
 * Node default ignore patterns (same file, same stack): set by the admin, merged with the server's
 * .pteroignore and the request's patterns into the archive, every source shown.
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
  });
}
