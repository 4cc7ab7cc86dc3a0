import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { backupSchedule, events, liveBackups, openFixture, type Fixture } from './support.ts';

for (const db of await testDatabaseUrls()) {
  describe(`downtime catch-up (${db.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await openFixture(await db.url(), { start: '2026-06-01T00:00:00.000Z', backupLimit: 50 });
    });
    after(async () => f.close());

    it('fires once after ten missed hours and moves next_run_at past now', async () => {
      const schedule = await backupSchedule(f, { minute: '0', hour: '*' });
      assert.equal(schedule.next_run_at, '2026-06-01T01:00:00.000Z');
      // The panel was down from 00:00 to 10:30: ten hourly runs were missed.
      f.clock.set('2026-06-01T10:30:00.000Z');
      const fired: number[] = [];
      for (let i = 0; i < 3; i++) {
        const tick = await f.module.scheduler.tick();
        await tick.done;
        fired.push(...tick.fired);
        f.clock.advance(15_000);
      }
      assert.deepEqual(fired, [schedule.id]);
      assert.equal((await liveBackups(f)).length, 1);
      assert.equal((await events(f, 'server:schedule.execute')).length, 1);
      const view = await f.module.schedules.view(f.server, schedule.id);
      assert.equal(view.attributes.next_run_at, '2026-06-01T11:00:00+00:00');
      assert.equal(view.attributes.last_run_at, '2026-06-01T10:30:00+00:00');
      assert.equal(view.attributes.is_processing, false);
    });

    it('an inactive schedule never fires; run-now still runs it once', async () => {
      const s = await backupSchedule(f, { minute: '*', hour: '*' });
      await f.module.schedules.update(f.server, s.id, { name: 'off', minute: '*', hour: '*', day_of_month: '*', month: '*', day_of_week: '*', is_active: false });
      f.clock.advance(3600_000);
      const tick = await f.module.scheduler.tick();
      await tick.done;
      assert.ok(!tick.fired.includes(s.id));
      const before = (await liveBackups(f)).length;
      const { done } = await f.module.schedules.executeNow(f.server, s.id);
      await done;
      assert.equal((await liveBackups(f)).length, before + 1);
      const manual = (await events(f, 'server:schedule.execute')).filter((e) => e.properties.manual === true);
      assert.equal(manual.length, 1);
    });

    it('a run claimed by a process that died is taken over after the stale window, once', async () => {
      const s = await backupSchedule(f, { minute: '0', hour: '*' });
      const due = Date.parse((await f.module.schedules.view(f.server, s.id)).attributes.next_run_at!);
      const markProcessing = (since: Date) => f.ctx.db.withTables<{ schedules: { id: number; is_processing: number; processing_started_at: string | null } }>()
        .updateTable('schedules').set({ is_processing: 1, processing_started_at: since.toISOString() }).where('id', '=', s.id).execute();
      f.clock.set(new Date(due + 60_000));
      // Claimed a minute ago by another (live) process: left alone.
      await markProcessing(new Date(due));
      const fresh = await f.module.scheduler.tick();
      await fresh.done;
      assert.ok(!fresh.fired.includes(s.id));
      // Claimed four hours ago by a process that died (the stale window is 3 h): taken over, once.
      await markProcessing(new Date(due - 4 * 3600_000));
      const first = await f.module.scheduler.tick();
      await first.done;
      const second = await f.module.scheduler.tick();
      await second.done;
      assert.deepEqual([...first.fired, ...second.fired].filter((id) => id === s.id), [s.id]);
      const view = await f.module.schedules.view(f.server, s.id);
      assert.equal(view.attributes.is_processing, false);
    });
  });
}
