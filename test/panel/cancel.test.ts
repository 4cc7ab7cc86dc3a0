/**
 * Cancelling a running backup or restore through the client API (backwing extension), with the
 * real daemon: permissions (backup.delete / backup.restore), the daemon's temp files gone, the
 * backup completed as failed, the server released, activity entries naming who cancelled.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`cancel (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      // 1 MiB/s: the 6 MiB below take seconds, long enough to cancel.
      h = await startHarness({ databaseUrl: await db.url(), daemonWriteLimitMiB: 1 });
    });
    after(async () => {
      await h?.close();
    });

    test('a running backup: 403 without backup.delete, then cancelled — temp file gone, failed, logged', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      writeFileSync(join(vol, 'big.bin'), randomBytes(6 * 1024 * 1024));
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'to cancel' } });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      const backups = join(h.daemonRoot!, 'backups');
      await waitFor('archive temp file', async () => readdirSync(backups).some((n) => n.includes(uuid)));

      const sub = await h.user('helper@example.com');
      await h.ctx.services.subusers.grant(server.id, sub.user.id, ['backup.read', 'backup.restore']);
      const refused = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/cancel`, { key: sub.key });
      assert.equal(refused.status, 403, refused.text);

      const res = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/cancel`);
      assert.equal(res.status, 204, res.text);
      assert.deepEqual(readdirSync(backups).filter((n) => n.includes(uuid)), [], 'temp files gone when the call returns');
      const row = await waitFor('failed report', async () => {
        const b = await h.backup(uuid);
        return b?.completed_at ? b : null;
      });
      assert.equal(row.is_successful, 0);
      assert.equal(row.failure_reason, 'cancelled');
      const shown = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(shown.body.attributes.failure_reason, 'cancelled');
      const entries = (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries;
      const cancel = entries.find((e) => e.event === 'server:backup.cancel');
      assert.ok(cancel, entries.map((e) => e.event).join(','));
      assert.equal(cancel.actor?.email, 'owner@example.com');
      assert.equal(cancel.properties.name, 'to cancel');

      const again = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/cancel`);
      assert.equal(again.status, 409, again.text);
      assert.match(again.body.errors[0].detail, /not running/);
    });

    test('a running restore: 403 without backup.restore, then cancelled — server released, logged', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      for (let i = 0; i < 48; i++) writeFileSync(join(vol, `part-${i}.bin`), randomBytes(128 * 1024));
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'source' } });
      const uuid = created.body.attributes.uuid as string;
      await waitFor('backup done', async () => (await h.backup(uuid))?.completed_at ?? null, 60_000);

      const noRestore = await h.api('POST', `/api/client/servers/${server.identifier}/restore/cancel`);
      assert.equal(noRestore.status, 409, 'nothing to cancel yet');

      assert.equal((await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/restore`, { body: { truncate: true } })).status, 204);
      const sub = await h.user('deleter@example.com');
      await h.ctx.services.subusers.grant(server.id, sub.user.id, ['backup.read', 'backup.delete']);
      const refused = await h.api('POST', `/api/client/servers/${server.identifier}/restore/cancel`, { key: sub.key });
      assert.equal(refused.status, 403, refused.text);

      const res = await h.api('POST', `/api/client/servers/${server.identifier}/restore/cancel`);
      assert.equal(res.status, 204, res.text);
      await waitFor('server released', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null);
      assert.ok(readdirSync(vol).length < 48, 'the restore stopped part-way');
      const events = (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries;
      const cancel = events.find((e) => e.event === 'server:backup.restore-cancel');
      assert.ok(cancel);
      assert.equal(cancel.properties.name, 'source');
      assert.equal(cancel.actor?.email, 'owner@example.com');
      const failed = await waitFor('restore-failed entry', async () => (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries.find((e) => e.event === 'server:backup.restore-failed'));
      // How far it got and what the files are now, in the entry people read.
      assert.match(String(failed.properties.reason),
        /^cancelled: (it stopped after \d+ entr(y|ies) \(about \d+% of the archive\); the server's files had been deleted first|nothing was restored, and the server's files had already been deleted)/);
    });
  });
}
