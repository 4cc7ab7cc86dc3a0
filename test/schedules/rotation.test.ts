import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { backupSchedule, completeBackup, events, liveBackups, openFixture, type Fixture } from './support.ts';

const MIN = 60_000;

for (const db of await testDatabaseUrls()) {
  describe(`rotation at the backup limit (${db.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await openFixture(await db.url(), { start: '2026-05-01T00:00:00.000Z', backupLimit: 3 });
    });
    after(async () => f.close());

    /** A manual backup, completed (or failed) by the "daemon". */
    async function manual(name: string, outcome: 'ok' | 'failed' | 'running', locked = false) {
      f.clock.advance(MIN);
      const target = { server: f.server, node: f.node };
      const row = await f.ctx.services.backups.create(target, { name }, null);
      if (outcome !== 'running') await completeBackup(f, row.uuid, outcome === 'ok');
      if (locked) await f.ctx.repos.backups.update(row.id, { is_locked: true }, f.clock.now().toISOString());
      return row;
    }

    it('deletes the oldest unlocked successful backup, never a locked, failed or running one', async () => {
      await manual('locked-oldest', 'ok', true);
      await manual('failed', 'failed');
      await manual('victim', 'ok');
      await manual('keeper', 'ok');
      // Counted against the limit: locked-oldest, victim, keeper = 3 = the limit. Failed doesn't count.
      const schedule = await backupSchedule(f, { minute: '*/5', hour: '*' });
      f.clock.set('2026-05-01T00:05:00.000Z');
      const tick = await f.module.scheduler.tick();
      await tick.done;
      assert.deepEqual(tick.fired, [schedule.id]);

      const names = (await liveBackups(f)).map((b) => b.name);
      assert.equal(names.length, 4);
      assert.deepEqual(names.slice(0, 3), ['locked-oldest', 'failed', 'keeper']);
      assert.match(names[3]!, /^Backup at 2026-05-01 00:05:00$/);
      const rotated = await events(f, 'server:backup.rotate');
      assert.equal(rotated.length, 1);
      assert.equal(rotated[0]!.properties.name, 'victim');
      assert.equal(rotated[0]!.actor_id, null);
      const victimUuid = (await f.ctx.repos.activity.listByEvent('server:backup.rotate'))[0];
      assert.ok(victimUuid);
      assert.equal(f.daemon.deletes().length, 1);
    });

    it('fails the run and says why when nothing can be rotated', async () => {
      // Now: locked-oldest (locked), failed, keeper, and the scheduled one still running.
      // Lock keeper: the counted set is locked-oldest, keeper (both locked) and one in progress.
      const keeper = (await liveBackups(f)).find((b) => b.name === 'keeper')!;
      await f.ctx.repos.backups.update(keeper.id, { is_locked: true }, f.clock.now().toISOString());
      const before = (await liveBackups(f)).length;
      const createsBefore = f.daemon.creates().length;

      f.clock.set('2026-05-01T00:10:00.000Z');
      const tick = await f.module.scheduler.tick();
      await tick.done;
      assert.equal(tick.fired.length, 1);
      assert.equal((await liveBackups(f)).length, before, 'no backup created, none deleted');
      assert.equal(f.daemon.creates().length, createsBefore);
      const failed = await events(f, 'server:schedule.failed');
      assert.equal(failed.length, 1);
      assert.match(String(failed[0]!.properties.reason), /limit of 3 reached and no backup can be rotated: 3 counted backups, 2 locked, 1 in progress/);
      assert.equal(failed[0]!.properties.action, 'backup');
      assert.equal(failed[0]!.actor_id, null);
    });

    it('a locked FAILED backup is not rotated either (automatic paths never delete locked backups)', async () => {
      const running = (await liveBackups(f)).find((b) => b.completed_at === null)!;
      await completeBackup(f, running.uuid, false);
      await f.ctx.repos.backups.update(running.id, { is_locked: true }, f.clock.now().toISOString());
      // Counted now: locked-oldest + keeper (locked) = 2 < 3, so the next run needs no rotation.
      f.clock.set('2026-05-01T00:15:00.000Z');
      const deletesBefore = f.daemon.deletes().length;
      await (await f.module.scheduler.tick()).done;
      assert.equal(f.daemon.deletes().length, deletesBefore);
      assert.ok((await liveBackups(f)).some((b) => b.uuid === running.uuid));
    });
  });
}
