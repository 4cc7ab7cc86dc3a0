import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { backupSchedule, completeBackup, events, liveBackups, openFixture, type Fixture } from './support.ts';

const HOUR = 3600_000;

for (const db of await testDatabaseUrls()) {
  describe(`a month of daily backups with retention (${db.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await openFixture(await db.url(), { start: '2026-03-01T00:00:00.000Z', backupLimit: 20 });
    });
    after(async () => f.close());

    it('ends with exactly the backups the policy keeps, plus the locked one', async () => {
      await f.module.retention.put(f.server, { keep_daily: 7, keep_weekly: 4 });
      const schedule = await backupSchedule(f, { minute: '0', hour: '2' });
      assert.equal(schedule.next_run_at, '2026-03-01T02:00:00.000Z');

      const dayOf = new Map<string, number>();
      // The scheduler ticks every hour of March (the clock never waits; it is moved).
      for (let t = Date.parse('2026-03-01T00:00:00Z'); t <= Date.parse('2026-03-31T23:00:00Z'); t += HOUR) {
        f.clock.set(new Date(t));
        const tick = await f.module.scheduler.tick();
        await tick.done;
        const fresh = (await liveBackups(f)).filter((b) => b.completed_at === null);
        for (const b of fresh) {
          const day = new Date(b.created_at).getUTCDate();
          dayOf.set(b.uuid, day);
          // The daemon takes ten minutes; the backup of the 10th fails.
          f.clock.advance(10 * 60_000);
          await completeBackup(f, b.uuid, day !== 10);
          if (day === 3) await f.ctx.repos.backups.update(b.id, { is_locked: true }, f.clock.now().toISOString());
        }
      }

      assert.equal(dayOf.size, 31, 'one backup per day, no more, no fewer');
      const live = await liveBackups(f);
      const days = live.map((b) => new Date(b.created_at).getUTCDate()).sort((a, b) => a - b);
      // keep_daily 7 → 25..31; keep_weekly 4 (ISO weeks) → 31 (W14), 29 (W13), 22 (W12), 15 (W11);
      // the 3rd is locked; the failed 10th is superseded by later successes.
      assert.deepEqual(days, [3, 15, 22, 25, 26, 27, 28, 29, 30, 31]);
      assert.ok(live.every((b) => b.is_successful === 1));
      assert.ok(live.every((b) => new Date(b.created_at).getUTCHours() === 2 && new Date(b.created_at).getUTCMinutes() === 0));

      const deletes = await events(f, 'server:backup.retention-delete');
      assert.equal(deletes.length, 21);
      assert.ok(deletes.every((e) => e.actor_id === null), 'automatic actions have no actor');
      assert.equal(deletes.filter((e) => e.properties.reason === 'failed-superseded').length, 1);
      // Every retention delete reached the daemon, and nothing was deleted twice.
      assert.equal(f.daemon.deletes().length, 21);
      assert.equal(new Set(f.daemon.deletes()).size, 21);
      assert.equal((await events(f, 'server:schedule.execute')).length, 31);
      assert.equal((await events(f, 'server:schedule.failed')).length, 0);

      const after = (await f.ctx.db.withTables<{ schedules: { id: number; next_run_at: string | null; last_run_at: string | null; is_processing: number } }>()
        .selectFrom('schedules').select(['next_run_at', 'last_run_at', 'is_processing']).where('id', '=', schedule.id).executeTakeFirstOrThrow());
      assert.equal(after.next_run_at, '2026-04-01T02:00:00.000Z');
      assert.equal(after.last_run_at, '2026-03-31T02:00:00.000Z');
      assert.equal(after.is_processing, 0);
    });
  });
}
