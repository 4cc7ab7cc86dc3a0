/**
 * Scheduled re-verification (issue 17), real daemon, SQLite and PostgreSQL: many backups due are
 * read back one at a time on a node (never two at once), never-verified first, at the configured
 * bandwidth limit and as background reads; nothing is due again until the interval has passed; a
 * node with a running backup is left alone.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchiveFile } from '../../src/archive/index.ts';
import type { DaemonVerifyRequest } from '../../src/wire/daemon-api.ts';
import { VerificationSchedule } from '../../src/panel/services/verification-schedule.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();
const DAY = 24 * 3600 * 1000;

for (const db of dbs) {
  describe(`scheduled verification (${db.name})`, () => {
    let h: Harness;
    let now = Date.parse('2026-03-01T00:00:00Z');
    const calls: Array<{ backup: string; body: DaemonVerifyRequest; start: number; end: number }> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let seq = 0;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), clock: () => new Date(now), env: { BACKUP_VERIFY_READ_LIMIT: '104857600', BACKUP_VERIFY_INTERVAL_DAYS: '7' } });
      const daemon = h.ctx.deps.daemon;
      const real = daemon.verifyBackup.bind(daemon);
      daemon.verifyBackup = async (node, server, backup, body, timeoutMs) => {
        const start = ++seq;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await real(node, server, backup, body, timeoutMs);
        } finally {
          inFlight--;
          calls.push({ backup, body, start, end: ++seq });
        }
      };
    });
    after(async () => {
      await h?.close();
    });

    test('eight due backups on one node are verified one at a time, never-verified first', async () => {
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
  });
}
