import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { completeBackup, events, liveBackups, openFixture, type Fixture } from './support.ts';

const cron = { minute: '0', hour: '4', day_of_month: '*', month: '*', day_of_week: '*' };

for (const db of await testDatabaseUrls()) {
  describe(`running a schedule's tasks (${db.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await openFixture(await db.url(), { start: '2026-08-01T00:00:00.000Z', backupLimit: 10 });
    });
    after(async () => f.close());

    it('runs tasks in sequence, each after its time_offset, with its ignore list', async () => {
      const { row } = await f.module.schedules.create(f.server, { name: 'two', ...cron });
      await f.module.schedules.createTask(f.server, row.id, { action: 'backup', payload: '*.log\ncache/', time_offset: 0 });
      await f.module.schedules.createTask(f.server, row.id, { action: 'backup', time_offset: 90 });
      f.clock.set('2026-08-01T04:00:00.000Z');
      const tick = await f.module.scheduler.tick();
      await tick.done;
      const backups = await liveBackups(f);
      assert.deepEqual(backups.map((b) => b.created_at), ['2026-08-01T04:00:00.000Z', '2026-08-01T04:01:30.000Z']);
      assert.deepEqual(JSON.parse(backups[0]!.ignored_files), ['*.log', 'cache/']);
      const creates = f.daemon.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/backup'));
      assert.equal((creates[0]!.body as { ignore: string }).ignore, '*.log\ncache/');
      const view = await f.module.schedules.view(f.server, row.id);
      assert.ok(view.attributes.relationships.tasks.data.every((t) => t.attributes.is_queued === false));
      assert.equal(view.attributes.last_run_at, '2026-08-01T04:01:30+00:00');
      for (const b of backups) await completeBackup(f, b.uuid);
    });

    it('stops at a failed task unless it continues on failure; each failure is logged with its reason', async () => {
      // Fill the server to its limit with locked backups so every backup task fails.
      const target = { server: f.server, node: f.node };
      while ((await f.ctx.repos.backups.countNonFailed(f.server.id)) < 10) {
        f.clock.advance(1000);
        const b = await f.ctx.services.backups.create(target, {}, null);
        await completeBackup(f, b.uuid);
      }
      for (const b of await liveBackups(f)) await f.ctx.repos.backups.update(b.id, { is_locked: true }, f.clock.now().toISOString());

      const { row: stop } = await f.module.schedules.create(f.server, { name: 'stop', ...cron });
      await f.module.schedules.createTask(f.server, stop.id, { action: 'backup', time_offset: 0 });
      await f.module.schedules.createTask(f.server, stop.id, { action: 'backup', time_offset: 0 });
      await (await f.module.schedules.executeNow(f.server, stop.id)).done;
      let failed = (await events(f, 'server:schedule.failed')).filter((e) => e.properties.name === 'stop');
      assert.deepEqual(failed.map((e) => e.properties.sequence_id), [1]);
      assert.match(String(failed[0]!.properties.reason), /limit of 10 reached and no backup can be rotated/);

      const { row: go } = await f.module.schedules.create(f.server, { name: 'go-on', ...cron });
      await f.module.schedules.createTask(f.server, go.id, { action: 'backup', time_offset: 0, continue_on_failure: true });
      await f.module.schedules.createTask(f.server, go.id, { action: 'backup', time_offset: 0 });
      await (await f.module.schedules.executeNow(f.server, go.id)).done;
      failed = (await events(f, 'server:schedule.failed')).filter((e) => e.properties.name === 'go-on');
      assert.deepEqual(failed.map((e) => e.properties.sequence_id), [1, 2]);
      assert.equal((await liveBackups(f)).length, 10, 'nothing created, nothing rotated');
    });

    it('skips the run while the server is restoring, and a second run-now is refused while one is going', async () => {
      const { row } = await f.module.schedules.create(f.server, { name: 'restoring', ...cron });
      await f.module.schedules.createTask(f.server, row.id, { action: 'backup', time_offset: 0 });
      await f.ctx.services.servers.setStatus(f.server.id, 'restoring_backup');
      await (await f.module.schedules.executeNow(f.server, row.id)).done;
      const failed = (await events(f, 'server:schedule.failed')).filter((e) => e.properties.name === 'restoring');
      assert.deepEqual(failed.map((e) => e.properties.reason), ['server is restoring_backup']);
      await f.ctx.services.servers.setStatus(f.server.id, null);

      // A run waiting on its time_offset holds the claim; a second "run now" gets 409.
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      const { row: slow } = await f.module.schedules.create(f.server, { name: 'slow', ...cron });
      await f.module.schedules.createTask(f.server, slow.id, { action: 'backup', time_offset: 10 });
      const original = f.module.deps.sleep;
      (f.module.deps as { sleep: typeof original }).sleep = async () => gate;
      try {
        const first = await f.module.schedules.executeNow(f.server, slow.id);
        await assert.rejects(f.module.schedules.executeNow(f.server, slow.id), (e: { status?: number }) => e.status === 409);
        assert.equal((await f.module.schedules.view(f.server, slow.id)).attributes.is_processing, true);
        release();
        await first.done;
      } finally {
        (f.module.deps as { sleep: typeof original }).sleep = original;
      }
      assert.equal((await f.module.schedules.view(f.server, slow.id)).attributes.is_processing, false);
    });
  });
}

describe('shutdown', () => {
  it('stopping the scheduler aborts a run waiting on its time_offset and releases the claim', async () => {
    const [db] = await testDatabaseUrls();
    const f = await openFixture(await db!.url(), { start: '2026-09-01T00:00:00.000Z', backupLimit: 5 });
    try {
      // Real sleeping this time: the run would wait 15 minutes for its first task.
      (f.module.deps as { sleep: typeof f.module.deps.sleep }).sleep = (await import('../../src/panel/scheduler/clock.ts')).realSleep;
      const { row } = await f.module.schedules.create(f.server, { name: 'long', ...cron });
      await f.module.schedules.createTask(f.server, row.id, { action: 'backup', time_offset: 900 });
      f.clock.set('2026-09-01T04:00:00.000Z');
      const tick = await f.module.scheduler.tick();
      assert.deepEqual(tick.fired, [row.id]);
      assert.equal((await f.module.schedules.view(f.server, row.id)).attributes.is_processing, true);
      await f.module.scheduler.stop();
      await tick.done;
      const view = await f.module.schedules.view(f.server, row.id);
      assert.equal(view.attributes.is_processing, false);
      assert.equal(f.daemon.creates().length, 0);
      const failed = await events(f, 'server:schedule.failed');
      assert.deepEqual(failed.map((e) => e.properties.reason), ['the panel shut down before this task ran']);
    } finally {
      await f.close();
    }
  });
});
