/**
 * What the panel does when a daemon refuses or is unreachable. A stub daemon on loopback answers
 * with the statuses under test and records what the panel sent. Also the S3 delete path, which
 * must not contact the daemon at all.
 */
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, PutObjectCommand, HeadObjectCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { testDatabaseUrls } from '../support/postgres.ts';
import { BUCKET, startHarness, type Harness } from './support/harness.ts';
import { isAppError } from '../../src/core/app-error.ts';
import { fauxqsClient } from '../support/fauxqs-client.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`daemon failures and S3 deletes (${db.name})`, () => {
    let h: Harness;
    let s3: S3Client;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: { BACKUP_THROTTLE_PERIOD: '0', AWS_BACKUPS_BUCKET: BUCKET } });
      s3 = fauxqsClient(h.s3!.port);
    });
    after(async () => {
      s3?.destroy();
      await h?.close();
    });
    beforeEach(() => h.stub!.reset());

    test('server creation tells the daemon; a refusal (500) or an unreachable daemon rolls the row back', async () => {
      const ok = await h.ctx.services.servers.create({ name: 'ok', ownerId: h.owner.id, nodeId: h.node.id });
      assert.equal(ok.backupLimit, 0, 'no limit given → 0 (upstream ServerCreationServiceTest)');
      assert.equal(ok.identifier, ok.uuid.slice(0, 8));
      assert.deepEqual(h.stub!.calls.map((c) => [c.method, c.url, c.body]), [['POST', '/api/servers', { uuid: ok.uuid, start_on_completion: false }]]);
      assert.equal(h.stub!.calls[0]!.authorization, `Bearer ${h.node.daemon_token}`);

      h.stub!.respond('POST', /^\/api\/servers$/, 500);
      const before = (await h.ctx.services.servers.list({ kind: 'all' })).total;
      await assert.rejects(h.ctx.services.servers.create({ name: 'bad', ownerId: h.owner.id, nodeId: h.node.id }), (err: unknown) => {
        assert.ok(isAppError(err));
        assert.equal(err.code, 'DaemonConnectionException');
        assert.equal(err.status, 500);
        return true;
      });
      assert.equal((await h.ctx.services.servers.list({ kind: 'all' })).total, before);

      const gone = await h.ctx.services.nodes.create({ name: 'gone', url: 'http://127.0.0.1:9' });
      await assert.rejects(h.ctx.services.servers.create({ name: 'x', ownerId: h.owner.id, nodeId: gone.id }), (err: unknown) => {
        assert.ok(isAppError(err));
        assert.equal(err.status, 504);
        return true;
      });
      assert.equal((await h.ctx.services.servers.list({ kind: 'all' })).total, before);
    });

    test('backup_limit null is stored as 0 (upstream BuildModificationServiceTest)', async () => {
      const s = await h.ctx.services.servers.create({ name: 'lim', ownerId: h.owner.id, nodeId: h.node.id, backupLimit: 4 });
      const u = await h.ctx.services.servers.update(s.id, { backupLimit: null });
      assert.equal(u.backupLimit, 0);
    });

    test('create sends adapter, uuid and the ignore list; a daemon error removes the row and is reported', async () => {
      const server = await h.server(h.owner.id);
      h.stub!.reset();
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { ignored: 'a\nb' } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(h.stub!.calls.map((c) => [c.method, c.url, c.body]), [
        ['POST', `/api/servers/${server.uuid}/backup`, { adapter: 'wings', uuid: r.body.attributes.uuid, ignore: 'a\nb' }],
      ]);

      h.stub!.respond('POST', /\/backup$/, 500);
      const bad = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
      assert.equal(bad.status, 500);
      assert.equal(bad.body.errors[0].code, 'DaemonConnectionException');
      assert.match(bad.body.errors[0].detail, /There was an error while communicating with the machine running this server/);
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      assert.equal(list.body.meta.pagination.total, 1, 'refused backup left no row');

      h.stub!.respond('POST', /\/backup$/, 404, { error: 'The requested resource does not exist on this instance.' });
      const four = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
      assert.equal(four.status, 404);
      assert.match(four.body.errors[0].detail, /An error occurred on the remote host: The requested resource does not exist on this instance\./);
    });

    test('restore: a daemon refusal puts the server status back and logs nothing', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server);
      h.stub!.respond('POST', /\/restore$/, 500);
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { body: { truncate: true } });
      assert.equal(r.status, 500);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);
      const call = h.stub!.calls.find((c) => c.url.endsWith('/restore'))!;
      assert.deepEqual(call.body, { adapter: 'wings', truncate_directory: true, download_url: '' });
      const events = (await h.ctx.services.activity.listForBackup(b.id)).entries.map((e) => e.event);
      assert.deepEqual(events, []);

      h.stub!.reset();
      const ok = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { body: { truncate: false } });
      assert.equal(ok.status, 204);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, 'restoring_backup');
      const again = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { body: { truncate: false } });
      assert.equal(again.status, 409);
    });

    test('delete: daemon 500 → DaemonConnectionException and the row stays; daemon 404 tolerated', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server);
      h.stub!.respond('DELETE', /\/backup\//, 500);
      const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`);
      assert.equal(r.status, 500);
      assert.equal(r.body.errors[0].code, 'DaemonConnectionException');
      assert.equal((await h.backup(b.uuid))!.deleted_at, null);
      h.stub!.reset();
      h.stub!.respond('DELETE', /\/backup\//, 404);
      const ok = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`);
      assert.equal(ok.status, 204);
      assert.deepEqual(h.stub!.calls.map((c) => [c.method, c.url]), [['DELETE', `/api/servers/${server.uuid}/backup/${b.uuid}`]]);
      assert.ok((await h.backup(b.uuid))!.deleted_at);
    });

    test('S3 backup delete removes the object, aborts an unfinished upload, never calls the daemon (upstream testS3ObjectCanBeDeleted)', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 's3' });
      const key = `${server.uuid}/${b.uuid}.tar.gz`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'archive' }));
      h.stub!.reset();
      const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`);
      assert.equal(r.status, 204, r.text);
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })));
      assert.deepEqual(h.stub!.calls, [], 'no daemon call');
      assert.ok((await h.backup(b.uuid))!.deleted_at);

      const running = await h.fixtureBackup(server, { disk: 's3', completed: false });
      const rkey = `${server.uuid}/${running.uuid}.tar.gz`;
      const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: rkey }));
      await h.ctx.repos.backups.update(running.id, { upload_id: mp.UploadId! }, new Date().toISOString());
      const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${running.uuid}`);
      assert.equal(del.status, 204);
      await assert.rejects(
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: rkey, UploadId: mp.UploadId!, PartNumber: 1, Body: 'x' })),
        (err: { name?: string }) => err.name === 'NoSuchUpload',
        'multipart upload was aborted',
      );
    });
  });
}
