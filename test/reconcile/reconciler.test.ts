/**
 * The reconciler's edges: an upstream Wings (no inventory route) is left to the prune age; a
 * daemon that reports a restart is reconciled at once; failure reasons sent by a daemon are
 * stored and logged.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from '../panel/support/harness.ts';
import { reconcilerFor } from '../../src/panel/reconcile/reconciler.ts';
import { ReconcileReasons } from '../../src/panel/services/reconcile.service.ts';

const dbs = await testDatabaseUrls();
const ENV = { BACKUP_THROTTLE_PERIOD: '0', RECONCILE_INTERVAL: '1', RECONCILE_GRACE: '1' };

for (const db of dbs) {
  describe(`reconciler against an upstream Wings (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: ENV });
      h.stub!.respond('GET', /^\/api\/backwing\/inventory$/, 404, { error: 'The requested resource does not exist on this instance.' });
    });
    after(async () => {
      await h?.close();
    });

    test('without the inventory route nothing in progress is failed (the prune age decides)', async () => {
      const server = await h.server(h.owner.id);
      const old = new Date(Date.now() - 10 * 60_000).toISOString();
      const row = await h.ctx.repos.backups.insert({ server_id: server.id, uuid: randomUUID(), name: 'running upstream', ignored_files: [], disk: 'wings', is_locked: false, at: old });
      const [result] = await reconcilerFor(h.ctx).runOnce();
      assert.equal(result!.inventory, null);
      assert.equal(result!.failedBackups, 0);
      assert.equal((await h.ctx.repos.backups.findById(row.id))!.completed_at, null);
      // A delete the panel could not finish is still finished through the Wings DELETE route.
      await h.ctx.repos.backups.update(row.id, { completed_at: old, is_successful: true }, old);
      await h.ctx.db.updateTable('backups').set({ deleted_at: old }).where('id', '=', row.id).execute();
      h.stub!.calls.length = 0;
      const [again] = await reconcilerFor(h.ctx).runOnce();
      assert.equal(again!.finishedDeletes, 1);
      assert.ok(h.stub!.calls.some((c) => c.method === 'DELETE' && c.url === `/api/servers/${server.uuid}/backup/${row.uuid}`));
    });
  });

  describe(`reconciler with the real daemon (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), env: ENV });
    });
    after(async () => {
      await h?.close();
    });

    test('a daemon restart (servers/reset) triggers a pass for that node at once', async () => {
      reconcilerFor(h.ctx); // wires the reset listener; no timer runs in this test
      const server = await h.server(h.owner.id);
      const row = await h.ctx.repos.backups.insert({ server_id: server.id, uuid: randomUUID(), name: 'lost', ignored_files: [], disk: 'wings', is_locked: false, at: new Date(Date.now() - 60_000).toISOString() });
      await h.ctx.db.deleteFrom('reconcile_leases').execute();
      const reset = await h.api('POST', '/api/remote/servers/reset', { key: null, headers: { authorization: h.nodeAuth() } });
      assert.equal(reset.status, 204, reset.text);
      const failed = await waitFor('the pass', async () => {
        const b = await h.ctx.repos.backups.findById(row.id);
        return b?.completed_at ? b : undefined;
      }, 10_000);
      assert.equal(failed.failure_reason, ReconcileReasons.unknownBackup);
    });

    test('failure reasons reported by a daemon are stored, returned and logged; upstream-shaped reports still land', async () => {
      const server = await h.server(h.owner.id);
      const a = await h.fixtureBackup(server, { completed: false });
      const b = await h.fixtureBackup(server, { completed: false });
      const auth = { key: null, headers: { authorization: h.nodeAuth() } };
      let r = await h.api('POST', `/api/remote/backups/${a.uuid}`, { ...auth, body: { successful: false, checksum: '', checksum_type: '', size: 0, parts: null, failure_reason: 'disk full' } });
      assert.equal(r.status, 204, r.text);
      r = await h.api('POST', `/api/remote/backups/${b.uuid}`, { ...auth, body: { successful: false, checksum: '', checksum_type: '', size: 0, parts: null } });
      assert.equal(r.status, 204, r.text);
      assert.equal((await h.backup(a.uuid))!.failure_reason, 'disk full');
      assert.equal((await h.backup(b.uuid))!.failure_reason, 'the daemon reported the backup failed');
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      const byUuid = new Map(list.body.data.map((d: any) => [d.attributes.uuid, d.attributes.failure_reason]));
      assert.equal(byUuid.get(a.uuid), 'disk full');
      const events = (await h.ctx.services.activity.listForBackup(a.id)).entries.filter((e) => e.event === 'server:backup.fail');
      assert.equal(events[0]!.properties.reason, 'disk full');

      const done = await h.fixtureBackup(server);
      await h.ctx.services.servers.setStatus(server.id, 'restoring_backup');
      r = await h.api('POST', `/api/remote/backups/${done.uuid}/restore`, { ...auth, body: { successful: false, failure_reason: 'the archive is damaged or is not a backup' } });
      assert.equal(r.status, 204, r.text);
      const restoreFailed = (await h.ctx.services.activity.listForBackup(done.id)).entries.filter((e) => e.event === 'server:backup.restore-failed');
      assert.equal(restoreFailed[0]!.properties.reason, 'the archive is damaged or is not a backup');
      assert.equal(list.body.data.find((d: any) => d.attributes.uuid === done.uuid)?.attributes.failure_reason ?? null, null);
    });
  });
}
