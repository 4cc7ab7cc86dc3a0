/**
 * The limit and the throttle hold under concurrent requests: the check and the insert share one
 * transaction (a row lock on PostgreSQL), so parallel creations cannot all take the last slot.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`concurrent creation (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), env: { BACKUP_THROTTLE_LIMIT: '4', BACKUP_THROTTLE_PERIOD: '600' } });
    });
    after(async () => {
      await h?.close();
    });

    test('8 parallel creations against a limit of 3: exactly 3 succeed, the rest get 400', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 3 });
      const results = await Promise.all(Array.from({ length: 8 }, () => h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 400, 400, 400, 400, 400]);
      for (const r of results.filter((x) => x.status === 400)) assert.equal(r.body.errors[0].code, 'TooManyBackupsException');
      const uuids = results.filter((r) => r.status === 200).map((r) => r.body.attributes.uuid as string);
      await waitFor('all complete', async () => (await Promise.all(uuids.map((u) => h.backup(u)))).every((b) => b?.completed_at));
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      assert.equal(list.body.meta.pagination.total, 3);
    });

    test('8 parallel creations against a throttle of 4: exactly 4 succeed, the rest get 429', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 50 });
      const results = await Promise.all(Array.from({ length: 8 }, () => h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} })));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 429, 429, 429, 429]);
      const uuids = results.filter((r) => r.status === 200).map((r) => r.body.attributes.uuid as string);
      await waitFor('all complete', async () => (await Promise.all(uuids.map((u) => h.backup(u)))).every((b) => b?.completed_at));
    });
  });
}
