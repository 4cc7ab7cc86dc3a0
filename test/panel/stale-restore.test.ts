/**
 * A restore whose daemon never reports back (crashed without restarting, report lost) must not keep
 * the server in `restoring_backup` — where every client route answers 409 — forever: the prune pass
 * releases it after the prune age and logs the restore as failed against the backup.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`stale restores (${db.name})`, () => {
    let h: Harness;
    let now = new Date('2030-01-01T12:00:00.000Z');
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', clock: () => now, env: { BACKUP_PRUNE_AGE: '360' }, daemonTimeoutMs: 1_500 }); // generous: a loaded CI machine answers a stub slowly; the delayed call below outlasts it
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

    test('a restore call that got no answer keeps the server restoring (the daemon may be at it); refused connections roll back', async () => {
      const server = await h.server(h.owner.id);
      const backup = await h.fixtureBackup(server, { name: 'late-answer' });
      h.stub!.delay('POST', new RegExp(`${backup.uuid}/restore$`), 4_000);
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${backup.uuid}/restore`, { body: { truncate: false } });
      assert.equal(r.status, 504, r.text);
      assert.equal(r.body.errors[0].code, 'DaemonConnectionException');
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, 'restoring_backup');
      assert.equal((await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} })).status, 409, 'no backup over a restore in progress');
      const events = (await h.ctx.services.activity.listForBackup(backup.id)).entries.map((e) => e.event);
      assert.ok(events.includes('server:backup.restore'), events.join(','));
      // The daemon did restore, and says so.
      const report = await h.api('POST', `/api/remote/backups/${backup.uuid}/restore`, { key: null, headers: { authorization: h.nodeAuth() }, body: { successful: true } });
      assert.equal(report.status, 204, report.text);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);

      // Nothing listening: the request provably never arrived, so the server is usable at once.
      const closed = await h.server(h.owner.id);
      const cb = await h.fixtureBackup(closed);
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
      const closedPort = (free.address() as AddressInfo).port;
      await new Promise((r) => free.close(r));
      await h.ctx.services.nodes.update(h.node.id, { url: `http://127.0.0.1:${closedPort}` });
      try {
        const refused = await h.api('POST', `/api/client/servers/${closed.identifier}/backups/${cb.uuid}/restore`, { body: { truncate: false } });
        assert.equal(refused.status, 504, refused.text);
        assert.equal((await h.ctx.repos.servers.findById(closed.id))!.status, null);
        assert.ok(!(await h.ctx.services.activity.listForBackup(cb.id)).entries.some((e) => e.event === 'server:backup.restore'));
      } finally {
        await h.ctx.services.nodes.update(h.node.id, { url: h.stub!.url });
      }
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
