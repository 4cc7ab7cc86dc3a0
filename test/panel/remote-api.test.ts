/**
 * The remote API daemons call (`/api/remote`), driven by the test acting as the daemon, with S3
 * multipart uploads against fauxqs; plus pruning of stale backups with an injected clock.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { S3Client, GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { testDatabaseUrls } from '../support/postgres.ts';
import { BUCKET, startHarness, type Harness } from './support/harness.ts';
import type { PanelConfig } from '../../src/panel/config.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { fauxqsClient } from '../support/fauxqs-client.ts';

const dbs = await testDatabaseUrls();
const MiB = 1024 * 1024;

for (const db of dbs) {
  describe(`remote API (${db.name})`, () => {
    let h: Harness;
    let s3: S3Client;
    let foreignServer: ServerRow;
    let foreignAuth: string;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3' });
      s3 = fauxqsClient(h.s3!.port);
      const other = await h.ctx.services.nodes.create({ name: 'node-2', url: 'http://127.0.0.1:9' });
      foreignAuth = `Bearer ${other.tokenId}.${other.token}`;
      const at = new Date().toISOString();
      const uuid = randomUUID();
      foreignServer = await h.ctx.repos.servers.insert({ uuid, identifier: uuid.slice(0, 8), name: 'elsewhere', owner_id: h.owner.id, node_id: other.id, backup_limit: 5, at });
    });
    after(async () => {
      s3?.destroy();
      await h?.close();
    });

    const remote = (method: string, path: string, opts: { auth?: string | null; body?: unknown } = {}) =>
      h.api(method, `/api/remote${path}`, { key: null, headers: opts.auth === null ? {} : { authorization: opts.auth ?? h.nodeAuth() }, body: opts.body });

    test('authentication: 401 without header, 400 malformed, 403 unknown id or wrong token', async () => {
      const none = await remote('GET', '/servers', { auth: null });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal(none.body.errors[0].detail, 'Access to this endpoint must include an Authorization header.');
      const malformed = await remote('GET', '/servers', { auth: 'Bearer justonepart' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.errors[0].detail, 'The Authorization header provided was not in a valid format.');
      const [id] = h.nodeAuth().slice(7).split('.');
      const wrong = await remote('GET', '/servers', { auth: `Bearer ${id}.not-the-token` });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.errors[0].detail, 'You are not authorized to access this resource.');
      assert.equal((await remote('GET', '/servers', { auth: 'Bearer nosuchid.token' })).status, 403);
    });

    test('servers: only this node\'s, paginated; one server; another node\'s server 404', async () => {
      const a = await h.server(h.owner.id);
      const b = await h.server(h.owner.id);
      await h.ctx.services.servers.setSuspended(b.id, true);
      const page = await remote('GET', '/servers?page=1&per_page=1');
      assert.equal(page.status, 200);
      assert.equal(page.body.data.length, 1);
      assert.equal(page.body.meta.per_page, 1);
      assert.ok(page.body.meta.total >= 2);
      assert.equal(page.body.meta.last_page, page.body.meta.total);
      const all = await remote('GET', '/servers?per_page=100');
      const uuids = all.body.data.map((s: any) => s.uuid);
      assert.ok(uuids.includes(a.uuid) && uuids.includes(b.uuid));
      assert.ok(!uuids.includes(foreignServer.uuid));
      const one = await remote('GET', `/servers/${b.uuid}`);
      assert.deepEqual(one.body, { uuid: b.uuid, settings: { uuid: b.uuid, suspended: true } });
      assert.equal((await remote('GET', `/servers/${foreignServer.uuid}`)).status, 404);
    });

    test('upload URLs: size required, 404 unknown, 403 other node, 409 completed, 400 non-S3; parts = ceil(size/part_size); asking again extends the same upload', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 's3', completed: false });
      assert.equal((await remote('GET', `/backups/${b.uuid}`)).status, 400);
      const zero = await remote('GET', `/backups/${b.uuid}?size=0`);
      assert.equal(zero.status, 400);
      assert.equal(zero.body.errors[0].detail, 'A non-empty "size" query parameter must be provided.');
      assert.equal((await remote('GET', `/backups/${randomUUID()}?size=10`)).status, 404);
      const fb = await h.fixtureBackup(foreignServer, { disk: 's3', completed: false });
      const foreign = await remote('GET', `/backups/${fb.uuid}?size=10`);
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.errors[0].detail, 'You do not have permission to access that backup.');
      const done = await h.fixtureBackup(server, { disk: 's3' });
      const conflict = await remote('GET', `/backups/${done.uuid}?size=10`);
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.errors[0].detail, 'This backup is already in a completed state.');
      // A backup's own destination decides (issue 15), not the panel-wide driver: a local one is refused.
      const wingsDisk = await h.fixtureBackup(server, { disk: 'wings', completed: false });
      const notS3 = await remote('GET', `/backups/${wingsDisk.uuid}?size=10`);
      assert.equal(notS3.status, 400);
      assert.equal(notS3.body.errors[0].detail, 'The configured backup adapter is not an S3 compatible adapter.');

      const first = await remote('GET', `/backups/${b.uuid}?size=${12 * MiB}`);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.part_size, 5 * MiB);
      assert.equal(first.body.parts.length, 3);
      assert.equal(first.body.extendable, true);
      const uploadId = (await h.backup(b.uuid))!.upload_id;
      assert.ok(uploadId);
      const second = await remote('GET', `/backups/${b.uuid}?size=${16 * MiB}`);
      assert.equal(second.body.parts.length, 4);
      assert.equal((await h.backup(b.uuid))!.upload_id, uploadId, 'same multipart upload');
      assert.ok(second.body.parts[3].includes(encodeURIComponent(uploadId!)) || second.body.parts[3].includes(uploadId!));
    });

    test('report success: uploads parts, completes the multipart upload, stores checksum/bytes/completion; second report 400', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 's3', completed: false, locked: true });
      const data = randomBytes(11 * MiB);
      const urls = await remote('GET', `/backups/${b.uuid}?size=${data.length}`);
      const parts: Array<{ etag: string; part_number: number }> = [];
      for (let i = 0; i < urls.body.parts.length; i++) {
        const chunk = data.subarray(i * 5 * MiB, Math.min(data.length, (i + 1) * 5 * MiB));
        const put = await fetch(urls.body.parts[i], { method: 'PUT', body: new Uint8Array(chunk) });
        assert.equal(put.status, 200);
        parts.push({ etag: put.headers.get('etag')!, part_number: i + 1 });
      }
      const hex = 'cd'.repeat(32);
      const r = await remote('POST', `/backups/${b.uuid}`, { body: { successful: true, checksum: hex, checksum_type: 'sha256', size: data.length, parts } });
      assert.equal(r.status, 204, r.text);
      const row = (await h.backup(b.uuid))!;
      assert.equal(row.is_successful, 1);
      assert.equal(row.is_locked, 1, 'lock kept on success');
      assert.equal(row.checksum, `sha256:${hex}`);
      assert.equal(Number(row.bytes), data.length);
      assert.ok(row.completed_at);
      const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${server.uuid}/${b.uuid}.tar.gz` }));
      const got = Buffer.from(await obj.Body!.transformToByteArray());
      assert.ok(got.equals(data), 'object assembled from the parts');
      const again = await remote('POST', `/backups/${b.uuid}`, { body: { successful: false } });
      assert.equal(again.status, 400);
      assert.equal(again.body.errors[0].detail, 'Cannot update the status of a backup that is already marked as completed.');
      const events = (await h.ctx.services.activity.listForBackup(row.id)).entries;
      assert.deepEqual(events.map((e) => [e.event, e.actor]), [['server:backup.complete', null]]);
    });

    test('report failure: unlocks, zeroes bytes, aborts the upload; validation and ownership errors', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 's3', completed: false, locked: true });
      await remote('GET', `/backups/${b.uuid}?size=${MiB}`);
      const uploadId = (await h.backup(b.uuid))!.upload_id!;
      const v = await remote('POST', `/backups/${b.uuid}`, { body: {} });
      assert.equal(v.status, 422);
      assert.deepEqual(v.body.errors[0].meta, { source_field: 'successful', rule: 'required' });
      const noChecksum = await remote('POST', `/backups/${b.uuid}`, { body: { successful: true, size: 5 } });
      assert.equal(noChecksum.status, 422);
      assert.equal(noChecksum.body.errors[0].meta.source_field, 'checksum');
      const fb = await h.fixtureBackup(foreignServer, { disk: 's3', completed: false });
      assert.equal((await remote('POST', `/backups/${fb.uuid}`, { body: { successful: false } })).status, 403);
      assert.equal((await remote('POST', `/backups/${randomUUID()}`, { body: { successful: false } })).status, 404);

      const r = await remote('POST', `/backups/${b.uuid}`, { body: { successful: false, checksum: null, size: null } });
      assert.equal(r.status, 204, r.text);
      const row = (await h.backup(b.uuid))!;
      assert.equal(row.is_successful, 0);
      assert.equal(row.is_locked, 0);
      assert.equal(Number(row.bytes), 0);
      assert.equal(row.checksum, null);
      assert.ok(row.completed_at);
      await assert.rejects(
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: `${server.uuid}/${b.uuid}.tar.gz`, UploadId: uploadId, PartNumber: 1, Body: 'x' })),
        (err: { name?: string }) => err.name === 'NoSuchUpload',
      );
      const noUpload = await h.fixtureBackup(server, { disk: 's3', completed: false });
      const d = await remote('POST', `/backups/${noUpload.uuid}`, { body: { successful: true, checksum: 'ab', checksum_type: 'sha1', size: 3 } });
      assert.equal(d.status, 400);
      assert.equal(d.body.errors[0].code, 'DisplayException');
      assert.equal((await h.backup(noUpload.uuid))!.completed_at, null, 'nothing changed');
    });

    test('two identical reports at once (a daemon retry racing the original): one lands, one activity entry', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 'wings', completed: false });
      const body = { successful: true, checksum: 'ef'.repeat(32), checksum_type: 'sha256', size: 42 };
      const results = await Promise.all([remote('POST', `/backups/${b.uuid}`, { body }), remote('POST', `/backups/${b.uuid}`, { body })]);
      assert.deepEqual(results.map((r) => r.status).sort(), [204, 400]);
      const events = (await h.ctx.services.activity.listForBackup(b.id)).entries.map((e) => e.event);
      assert.deepEqual(events, ['server:backup.complete']);
    });

    test('restore report clears restoring_backup with colon-named events; other node 403; servers/reset', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { disk: 's3' });
      await h.ctx.services.servers.setStatus(server.id, 'restoring_backup');
      const r = await remote('POST', `/backups/${b.uuid}/restore`, { body: { successful: true } });
      assert.equal(r.status, 204);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);
      await h.ctx.services.servers.setStatus(server.id, 'restoring_backup');
      assert.equal((await remote('POST', `/backups/${b.uuid}/restore`, { body: { successful: false } })).status, 204);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null);
      const events = (await h.ctx.services.activity.listForBackup(b.id)).entries.map((e) => e.event);
      assert.deepEqual(events, ['server:backup.restore-failed', 'server:backup.restore-complete']);
      const fb = await h.fixtureBackup(foreignServer, { disk: 's3' });
      assert.equal((await remote('POST', `/backups/${fb.uuid}/restore`, { body: { successful: true } })).status, 403);
      assert.equal((await remote('POST', `/backups/${randomUUID()}/restore`, { body: { successful: true } })).status, 404);

      const installing = await h.server(h.owner.id, { status: 'installing' });
      const restoring = await h.server(h.owner.id);
      const rb = await h.fixtureBackup(restoring, { disk: 'wings', name: 'nightly' });
      // The state a daemon that crashed mid-restore leaves behind.
      await h.ctx.services.activity.log({ event: 'server:backup.restore', actor: null, properties: { name: 'nightly', truncate: false }, subjects: [{ type: 'backup', id: rb.id }, { type: 'server', id: restoring.id }] });
      await h.ctx.services.servers.setStatus(restoring.id, 'restoring_backup');
      const suspended = await h.server(h.owner.id, { status: 'suspended' });
      await h.ctx.services.servers.setStatus(foreignServer.id, 'restoring_backup');
      const reset = await remote('POST', '/servers/reset', { body: undefined });
      assert.equal(reset.status, 204);
      assert.equal((await h.ctx.repos.servers.findById(installing.id))!.status, null);
      assert.equal((await h.ctx.repos.servers.findById(restoring.id))!.status, null);
      const failed = (await h.ctx.services.activity.listForBackup(rb.id)).entries.find((e) => e.event === 'server:backup.restore-failed' && e.properties.reason);
      assert.ok(failed, 'restore-failed logged against the backup being restored');
      assert.equal(failed.properties.name, 'nightly');
      assert.equal((await h.ctx.repos.servers.findById(suspended.id))!.status, 'suspended');
      assert.equal((await h.ctx.repos.servers.findById(foreignServer.id))!.status, 'restoring_backup', 'other node untouched');
      await h.ctx.services.servers.setStatus(foreignServer.id, null);
    });

    test('prune: unfinished backups older than the prune age are marked failed (clock injected); 0 disables', async () => {
      const server = await h.server(h.owner.id);
      const now = new Date('2030-01-01T12:00:00.000Z');
      const old = await h.fixtureBackup(server, { completed: false, createdAt: new Date(now.getTime() - 361 * 60_000).toISOString() });
      const fresh = await h.fixtureBackup(server, { completed: false, createdAt: new Date(now.getTime() - 359 * 60_000).toISOString() });
      const oldDone = await h.fixtureBackup(server, { createdAt: new Date(now.getTime() - 999 * 60_000).toISOString() });
      const cfg = h.ctx.deps.config;
      (h.ctx.deps as { config: PanelConfig }).config = { ...cfg, pruneAgeMinutes: 0 };
      try {
        assert.equal(await h.ctx.services.backups.pruneStale(now), 0);
      } finally {
        (h.ctx.deps as { config: PanelConfig }).config = cfg;
      }
      // Two prune runs at once (as two panels would): each stale backup is failed and logged once.
      const [a, b] = await Promise.all([h.ctx.services.backups.pruneStale(now), h.ctx.services.backups.pruneStale(now)]);
      assert.ok(a + b >= 1);
      const o = (await h.backup(old.uuid))!;
      const fails = (await h.ctx.services.activity.listForBackup(o.id)).entries.filter((e) => e.event === 'server:backup.fail');
      assert.equal(fails.length, 1);
      assert.match(String(fails[0]!.properties.reason), /360 minutes/);
      assert.equal(await h.ctx.services.backups.pruneStale(now), 0, 'nothing left to prune');
      assert.equal(o.is_successful, 0);
      assert.equal(o.completed_at, now.toISOString());
      assert.equal((await h.backup(fresh.uuid))!.completed_at, null);
      assert.equal((await h.backup(oldDone.uuid))!.is_successful, 1);
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      assert.equal(list.body.meta.backup_count, 2, 'the failed one no longer counts');
    });
  });
}
