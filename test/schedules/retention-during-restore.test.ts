/**
 * Retention never deletes under a running restore (the daemon may be reading one of those
 * archives): a backup finishing meanwhile leaves the application pending, and the scheduler's next
 * tick after the restore applies it. A restore report for a backup deleted meanwhile still releases
 * the server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { completeBackup, events, liveBackups, openFixture, type Fixture } from './support.ts';

for (const db of await testDatabaseUrls()) {
  describe(`retention during a restore (${db.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await openFixture(await db.url(), { start: '2026-03-01T00:00:00.000Z', backupLimit: 10 });
    });
    after(async () => f.close());

    const target = () => ({ server: f.server, node: f.node });

    it('defers the application until the restore ends, then applies it', async () => {
      const first = await f.ctx.services.backups.create(target(), {}, null);
      await completeBackup(f, first.uuid);
      await f.module.retention.put(f.server, { keep_last: 1 });
      f.clock.advance(60_000);
      const second = await f.ctx.services.backups.create(target(), {}, null);

      await f.ctx.services.servers.setStatus(f.server.id, 'restoring_backup');
      f.clock.advance(60_000);
      await completeBackup(f, second.uuid);
      await (await f.module.scheduler.tick()).done;
      assert.deepEqual((await liveBackups(f)).map((b) => b.uuid).sort(), [first.uuid, second.uuid].sort(), 'nothing deleted during the restore');
      assert.equal(f.daemon.deletes().length, 0);

      // The daemon reports the restore of the first backup; the next tick applies the policy.
      await f.ctx.services.remote.reportRestore(f.node, first.uuid, true);
      assert.equal((await f.ctx.repos.servers.findById(f.server.id))!.status, null);
      await (await f.module.scheduler.tick()).done;
      assert.deepEqual((await liveBackups(f)).map((b) => b.uuid), [second.uuid]);
      assert.equal((await events(f, 'server:backup.retention-delete')).length, 1);
    });

    it('a restore report for a backup deleted meanwhile still releases the server', async () => {
      const [b] = await liveBackups(f);
      await f.ctx.services.servers.setStatus(f.server.id, 'restoring_backup');
      await f.ctx.repos.backups.softDelete(b!.id, f.clock.now().toISOString());
      await f.ctx.services.remote.reportRestore(f.node, b!.uuid, true);
      assert.equal((await f.ctx.repos.servers.findById(f.server.id))!.status, null);
      const complete = await events(f, 'server:backup.restore-complete');
      assert.equal(complete.length, 2);
    });
  });
}
