/**
 * A lock set after a deleter read the backup still protects it: the lock rule is decided in the
 * database, not on a stale copy of the row. And a lock toggled on a backup deleted meanwhile is a
 * 404, not a lock on a row nobody can see.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`lock races (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub' });
      server = await h.server(h.owner.id);
    });
    after(async () => {
      await h?.close();
    });

    const target = () => ({ server, node: h.node });
    const lock = async (uuid: string) => {
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/lock`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.attributes.is_locked, true);
    };
    const daemonDeletes = () => h.stub!.calls.filter((c) => c.method === 'DELETE').length;

    test('automatic delete (rotation, retention) with a copy read before the lock: refused, nothing removed', async () => {
      for (const fixture of [{}, { successful: false }] as const) {
        const b = await h.fixtureBackup(server, fixture);
        const stale = (await h.backup(b.uuid))!;
        await lock(b.uuid);
        const before = daemonDeletes();
        await assert.rejects(h.ctx.services.backups.delete(target(), stale, null), (e: any) => e.code === 'BackupLockedException');
        assert.equal((await h.backup(b.uuid))!.deleted_at, null, 'still live');
        assert.equal(daemonDeletes(), before, 'the daemon was not asked to delete it');
      }
    });

    test('client delete with a copy read before the lock: 400 BackupLocked for a successful backup', async () => {
      const b = await h.fixtureBackup(server);
      const stale = (await h.backup(b.uuid))!;
      await lock(b.uuid);
      const actor = { userId: h.owner.id, userUuid: h.owner.uuid, rootAdmin: false, apiKeyId: null, ip: null };
      await assert.rejects(h.ctx.services.backups.delete(target(), stale, actor), (e: any) => e.code === 'BackupLockedException' && e.status === 400);
      assert.equal((await h.backup(b.uuid))!.deleted_at, null);
    });

    test('deleting a backup already deleted meanwhile is a 404, and the daemon is not called again', async () => {
      const b = await h.fixtureBackup(server);
      const stale = (await h.backup(b.uuid))!;
      assert.equal((await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`)).status, 204);
      const before = daemonDeletes();
      await assert.rejects(h.ctx.services.backups.delete(target(), stale, null), (e: any) => e.status === 404);
      assert.equal(daemonDeletes(), before);
    });

    test('toggling the lock of a backup deleted meanwhile is a 404 and changes nothing', async () => {
      const b = await h.fixtureBackup(server);
      const stale = (await h.backup(b.uuid))!;
      assert.equal((await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`)).status, 204);
      const actor = { userId: h.owner.id, userUuid: h.owner.uuid, rootAdmin: false, apiKeyId: null, ip: null };
      await assert.rejects(h.ctx.services.backups.toggleLock(target(), stale, actor), (e: any) => e.status === 404);
      const row = (await h.backup(b.uuid))!;
      assert.equal(row.is_locked, 0);
      assert.ok(row.deleted_at);
      const events = (await h.ctx.services.activity.listForBackup(b.id)).entries.map((e) => e.event);
      assert.ok(!events.includes('server:backup.lock'), events.join(','));
    });

    test('a daemon error other than 404 puts the row back', async () => {
      const b = await h.fixtureBackup(server);
      h.stub!.respond('DELETE', new RegExp(b.uuid), 500);
      const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`);
      assert.equal(r.status, 500, r.text);
      assert.equal(r.body.errors[0].code, 'DaemonConnectionException');
      assert.equal((await h.backup(b.uuid))!.deleted_at, null);
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups/${b.uuid}`)).status, 200);
    });
  });
}
