/**
 * A restore whose daemon never reports back (crashed without restarting, report lost) must not keep
 * the server in `restoring_backup` — where every client route answers 409 — forever: the prune pass
 * releases it after the prune age and logs the restore as failed against the backup.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`stale restores (${db.name})`, () => {
    let h: Harness;
    let now = new Date('2030-01-01T12:00:00.000Z');
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', clock: () => now, env: { BACKUP_PRUNE_AGE: '360' } });
    });
    after(async () => {
      await h?.close();
    });

    test('a restore never reported is released after the prune age, once, and logged as failed', async () => {
      const server = await h.server(h.owner.id);
      const backup = await h.fixtureBackup(server, { name: 'before-update' });
      const other = await h.server(h.owner.id);
      const otherBackup = await h.fixtureBackup(other);

      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${backup.uuid}/restore`, { body: { truncate: false } });
      assert.equal(r.status, 204, r.text);
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`)).status, 409);

      // A later restore on another server is still within the age and must be left alone.
      now = new Date(now.getTime() + 300 * 60_000);
      assert.equal((await h.api('POST', `/api/client/servers/${other.identifier}/backups/${otherBackup.uuid}/restore`, { body: { truncate: true } })).status, 204);

      assert.equal(await h.ctx.services.backups.releaseStaleRestores(), 0, 'nothing is stale yet');
      now = new Date(now.getTime() + 61 * 60_000);
      const [a, b] = await Promise.all([h.ctx.services.backups.releaseStaleRestores(), h.ctx.services.backups.releaseStaleRestores()]);
      assert.equal(a + b, 1, 'released exactly once even with two prune passes at the same time');

      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);
      assert.equal((await h.ctx.repos.servers.findById(other.id))!.status, 'restoring_backup');
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`)).status, 200);
      const events = (await h.ctx.services.activity.listForBackup(backup.id)).entries;
      const failed = events.filter((e) => e.event === 'server:backup.restore-failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.properties.name, 'before-update');
      assert.match(String(failed[0]!.properties.reason), /360 minutes/);

      // The late report from a daemon that did finish still lands without error.
      const late = await h.api('POST', `/api/remote/backups/${backup.uuid}/restore`, { key: null, headers: { authorization: h.nodeAuth() }, body: { successful: true } });
      assert.equal(late.status, 204, late.text);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);
    });

    test('prune age 0 disables the release', async () => {
      const server = await h.server(h.owner.id);
      await h.ctx.services.servers.setStatus(server.id, 'restoring_backup');
      now = new Date(now.getTime() + 10_000 * 60_000);
      const cfg = h.ctx.deps.config;
      (h.ctx.deps as { config: typeof cfg }).config = { ...cfg, pruneAgeMinutes: 0 };
      try {
        assert.equal(await h.ctx.services.backups.releaseStaleRestores(), 0);
      } finally {
        (h.ctx.deps as { config: typeof cfg }).config = cfg;
      }
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, 'restoring_backup');
    });
  });
}
