/**
 * The panel's side of restic backups (SQLite and PostgreSQL): a node's repository set through the
 * application API, its generated password stored sealed and sent only to the daemon with each
 * restic job; the report's snapshot fields shown as backwing extensions in the client API; a
 * delete forgets the snapshot and counts it toward the next prune.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateAppKey } from '../../src/core/secret-box.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();
process.env.APP_KEY ??= generateAppKey();

for (const db of dbs) {
  describe(`restic backups in the panel (${db.name})`, () => {
    let h: Harness;
    let adminKey: string;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: { BACKUP_THROTTLE_PERIOD: '0' } });
      adminKey = (await h.user('restic-admin@example.com', { rootAdmin: true, type: 'application' })).key;
    });
    after(async () => h?.close());

    test('repository via the application API; the password is generated, sealed, sent to the daemon only, never shown', async () => {
      const path = `/api/application/nodes/${h.node.id}/restic`;
      assert.equal((await h.api('GET', path, { key: adminKey })).status, 404);
      const bad = await h.api('PUT', path, { key: adminKey, body: { repository: 'relative/repo' } });
      assert.equal(bad.status, 422, bad.text);
      const put = await h.api('PUT', path, { key: adminKey, body: { repository: '/srv/restic-repo' } });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.attributes.repository, '/srv/restic-repo');
      assert.equal(put.body.attributes.has_password, true);
      assert.equal('password' in put.body.attributes, false);
      const row = (await h.ctx.repos.nodeRestic.find(h.node.id))!;
      assert.match(row.password, /^bw1:/, 'stored sealed');
      const password = h.ctx.deps.secrets.open(row.password);
      assert.ok(password.length >= 40);
      // Changing other settings keeps the password.
      await h.api('PUT', path, { key: adminKey, body: { enabled: true } });
      assert.equal((await h.ctx.repos.nodeRestic.find(h.node.id))!.password, row.password);

      const server = await h.server(h.owner.id, { backupLimit: 5 });
      h.stub!.reset();
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'restic one' } });
      assert.equal(created.status, 200, created.text);
      assert.equal(JSON.stringify(created.body).includes(password), false);
      const call = h.stub!.calls.find((c) => c.method === 'POST' && c.url.endsWith('/backup'))!;
      const body = call.body as { adapter: string; restic: { repository: string; password: string } };
      assert.equal(body.adapter, 'restic');
      assert.deepEqual(body.restic, { repository: '/srv/restic-repo', password, s3: null });
      const uuid = created.body.attributes.uuid as string;
      assert.equal((await h.backup(uuid))!.disk, 'restic');

      // The daemon's report: the snapshot fields are stored and shown (backwing extensions).
      const report = await h.api('POST', `/api/remote/backups/${uuid}`, {
        key: null, headers: { authorization: h.nodeAuth() },
        body: { successful: true, checksum: 'abcd1234', checksum_type: 'restic-snapshot', size: 4096, parts: null, snapshot_id: 'abcd1234', bytes_added: 4096, repository_size: 1_000_000 },
      });
      assert.equal(report.status, 204, report.text);
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      const attrs = list.body.data.find((d: { attributes: { uuid: string } }) => d.attributes.uuid === uuid).attributes;
      assert.equal(attrs.bytes_added, 4096);
      assert.equal(attrs.repository_size, 1_000_000);
      assert.equal((await h.backup(uuid))!.snapshot_id, 'abcd1234');
      assert.equal(JSON.stringify(list.body).includes(password), false);

      // Restore and delete carry the repository; delete counts toward the batched prune.
      h.stub!.reset();
      const restore = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/restore`, { body: { truncate: true } });
      assert.equal(restore.status, 204, restore.text);
      assert.deepEqual((h.stub!.calls.find((c) => c.url.endsWith('/restore'))!.body as { restic: unknown }).restic, { repository: '/srv/restic-repo', password, s3: null });
      await h.ctx.repos.servers.transitionStatus(server.id, 'restoring_backup', null, new Date().toISOString());
      h.stub!.reset();
      const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(del.status, 204, del.text);
      const delCall = h.stub!.calls.find((c) => c.method === 'DELETE')!;
      assert.deepEqual(delCall.body, { adapter: 'restic', restic: { repository: '/srv/restic-repo', password, s3: null } });
      assert.equal((await h.ctx.repos.nodeRestic.find(h.node.id))!.forgotten_since_prune, 1);
    });
  });
}
