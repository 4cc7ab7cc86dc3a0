/**
 * Refusals that say what and when: not-found errors name the server or the backup (without telling
 * a stranger a server exists), a throttle refusal carries Retry-After, and the CLI turns both into
 * one line that says what to do.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { PanelApi } from '../../src/cli/client/panel-api.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`refusals that explain themselves (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: { BACKUP_THROTTLE_LIMIT: '1', BACKUP_THROTTLE_PERIOD: '600' } });
    });
    after(async () => {
      await h?.close();
    });

    test('not found names the server or the backup; a server one may not see reads like one that does not exist', async () => {
      const mine = await h.server(h.owner.id, { backupLimit: 5 });
      const other = await h.user('stranger@example.com');
      const theirs = await h.server(other.user.id);
      const unknown = await h.api('GET', '/api/client/servers/nope1234/backups');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.errors[0].detail, 'No server "nope1234" was found for this account.');
      const hidden = await h.api('GET', `/api/client/servers/${theirs.identifier}/backups/00000000-0000-0000-0000-000000000000`);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.errors[0].detail, `No server "${theirs.identifier}" was found for this account.`, 'no hint that the server exists');
      const noBackup = await h.api('GET', `/api/client/servers/${mine.identifier}/backups/00000000-0000-0000-0000-000000000000`);
      assert.equal(noBackup.status, 404);
      assert.equal(noBackup.body.errors[0].code, 'NotFoundHttpException');
      assert.match(noBackup.body.errors[0].detail, /^No backup "00000000-0000-0000-0000-000000000000" was found on this server/);
      const control = await h.api('GET', `/api/client/servers/${mine.identifier}/backups/%01x`);
      assert.doesNotMatch(control.body.errors[0].detail, /[\u0000-\u001f]/);
    });

    test('the throttle says when it is possible again, and the CLI says it in words', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      assert.equal((await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} })).status, 200);
      const refused = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter > 500 && retryAfter <= 600, String(retryAfter));
      const cli = new PanelApi({ url: h.url, key: h.ownerKey });
      await assert.rejects(cli.createBackup(server.identifier, {}), (err: Error) => {
        assert.match(err.message, /^Only 1 backups may be generated within a 600 second span of time\. \[TooManyRequestsHttpException\] You can try again in 10 minutes\.$/);
        return true;
      });
    });
  });
}
