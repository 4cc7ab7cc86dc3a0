/**
 * Verification through the panel (issue 17), real daemon and fauxqs, SQLite and PostgreSQL: an S3
 * backup is read back before it is recorded good; verify on demand reports each fault (flipped
 * byte, truncation, deletion, a shorter S3 object) with its reason and marks the backup damaged —
 * row and lock kept, activity entry, notification queued — never deleting it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createArchiveFile } from '../../src/archive/index.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { FLIPPED_BYTE_REASON, flipByteAt } from '../support/damage.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { BUCKET, startHarness, waitFor, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();


for (const db of dbs) {
  describe(`verification (${db.name})`, () => {
    let h: Harness;
    let s3: S3Client;
    let server: ServerRow;
    const path = (srv: ServerRow) => `/api/client/servers/${srv.identifier}/backups`;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3', env: { BACKUP_VERIFY_S3_READ_BACK: 'true', BACKUP_THROTTLE_PERIOD: '0', NOTIFY_WEBHOOK_URLS: 'http://127.0.0.1:9/hook' } });
      s3 = new S3Client({ endpoint: `http://127.0.0.1:${h.s3!.port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      server = await h.server(h.owner.id, { backupLimit: 20 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      // Several gzip members, so a flipped byte lands inside one.
      writeFileSync(join(vol, 'world.bin'), randomBytes(3 * 1024 * 1024));
    });
    after(async () => {
      s3?.destroy();
      await h?.close();
    });

    async function s3Backup(): Promise<string> {
      const created = await h.api('POST', path(server), { body: { name: 'on s3' } });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      await waitFor('backup completed', async () => (await h.backup(uuid))?.completed_at);
      return uuid;
    }

    /** A local archive the node holds (as Wings left it: no sidecar), and its row. */
    async function localBackup(locked: boolean) {
      const src = mkdtempSync(join(tmpdir(), 'bw-verify-src-'));
      writeFileSync(join(src, 'world.bin'), randomBytes(3 * 1024 * 1024));
      const row = await h.fixtureBackup(server, { disk: 'wings', locked, name: 'local' });
      const file = join(h.daemonRoot!, 'backups', `${row.uuid}.tar.gz`);
      mkdirSync(join(h.daemonRoot!, 'backups'), { recursive: true });
      const made = await createArchiveFile(src, file);
      rmSync(src, { recursive: true, force: true });
      await h.ctx.repos.backups.update(row.id, { checksum: `sha256:${made.checksum}`, bytes: made.size }, row.created_at);
      return { uuid: row.uuid, id: row.id, file, size: made.size };
    }

    const verify = (uuid: string, key?: string) => h.api('POST', `${path(server)}/${uuid}/verify`, key === undefined ? {} : { key });

    test('an S3 backup is read back by the node before it is recorded good', async () => {
      const uuid = await s3Backup();
      const row = (await h.backup(uuid))!;
      assert.equal(row.is_successful, 1, row.failure_reason ?? '');
      assert.equal(row.verification, 'good');
      assert.ok(row.verified_at);
      const shown = await h.api('GET', `${path(server)}/${uuid}`);
      assert.equal(shown.body.attributes.verification, 'good');
      assert.equal(shown.body.attributes.damage_reason, null);
      assert.match(shown.body.attributes.verified_at, /\+00:00$/);
    });

    test('local: good, then flipped byte, truncation and deletion each reported with the reason; damaged, kept, locked, logged, notified once', async () => {
      const b = await localBackup(true);
      const good = await verify(b.uuid);
      assert.equal(good.status, 200, good.text);
      assert.equal(good.body.attributes.verification, 'good');
      assert.equal(good.body.attributes.damage_reason, null);

      const original = readFileSync(b.file);
      flipByteAt(b.file, Math.floor(original.length / 2));
      const flipped = await verify(b.uuid);
      assert.equal(flipped.status, 200, flipped.text);
      assert.equal(flipped.body.attributes.verification, 'damaged');
      assert.match(flipped.body.attributes.damage_reason, FLIPPED_BYTE_REASON);
      assert.equal(flipped.body.attributes.is_locked, true, 'the lock stays');
      assert.equal(flipped.body.attributes.is_successful, true, 'a damaged backup is not rewritten as failed');

      writeFileSync(b.file, original);
      truncateSync(b.file, original.length - 100);
      const truncated = await verify(b.uuid);
      assert.equal(truncated.body.attributes.verification, 'damaged');
      assert.match(truncated.body.attributes.damage_reason, /unexpected end of stream/);

      rmSync(b.file);
      const missing = await verify(b.uuid);
      assert.equal(missing.body.attributes.verification, 'damaged');
      assert.equal(missing.body.attributes.damage_reason, 'the archive is missing from the node');

      const row = (await h.backup(b.uuid))!;
      assert.equal(row.deleted_at, null, 'never deleted');
      assert.equal(row.is_locked, 1);
      const listed = await h.api('GET', path(server));
      assert.ok(listed.body.data.some((d: any) => d.attributes.uuid === b.uuid), 'still listed');

      const entries = (await h.ctx.services.activity.listForServer(server.id, 1, 100)).entries.filter((e) => e.properties.name === 'local');
      assert.equal(entries.filter((e) => e.event === 'server:backup.verify').length, 4);
      const damagedEntries = entries.filter((e) => e.event === 'server:backup.damaged');
      assert.equal(damagedEntries.length, 1, 'told once, when it turned damaged');
      assert.match(String(damagedEntries[0]!.properties.reason), FLIPPED_BYTE_REASON);
      const deliveries = (await h.ctx.repos.notifications.listDeliveries({ serverId: server.id })).filter((d) => d.event === 'backup.damaged');
      assert.equal(deliveries.length, 1);
      assert.match(JSON.parse(deliveries[0]!.payload).backup.failure_reason, FLIPPED_BYTE_REASON);

      // Put back, it verifies good again: the mark follows the archive.
      writeFileSync(b.file, original);
      assert.equal((await verify(b.uuid)).body.attributes.verification, 'good');
    });

    test('S3: an object replaced by a shorter one is damaged with the sizes; the object and row stay', async () => {
      const uuid = await s3Backup();
      const key = `${server.uuid}/${uuid}.tar.gz`;
      const obj = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: obj.subarray(0, obj.length - 1000) }));
      const res = await verify(uuid);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.attributes.verification, 'damaged');
      assert.equal(res.body.attributes.damage_reason, `the stored object is ${obj.length - 1000} bytes, the backup recorded ${obj.length}`);
      // Same length, one byte flipped: only a read of the whole object finds it.
      const bad = Buffer.from(obj);
      bad[Math.floor(bad.length / 2)] ^= 0xff;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bad }));
      const flipped = await verify(uuid);
      assert.match(flipped.body.attributes.damage_reason, FLIPPED_BYTE_REASON);
      assert.equal((await h.backup(uuid))!.deleted_at, null);
    });

    test('needs backup.read; a backup that did not complete successfully is a 409', async () => {
      const b = await h.fixtureBackup(server, { completed: false });
      const sub = await h.user(`nobody-${db.name}@example.com`);
      await h.ctx.services.subusers.grant(server.id, sub.user.id, ['backup.create']);
      assert.equal((await verify(b.uuid, sub.key)).status, 403);
      const running = await verify(b.uuid);
      assert.equal(running.status, 409, running.text);
      const failed = await h.fixtureBackup(server, { successful: false });
      assert.equal((await verify(failed.uuid)).status, 409);
    });
  });
}
