/**
 * Destinations against a signature-checking S3 server (Ceph radosgw, started once for the file):
 * two S3 destinations (two buckets) and two nodes, each with its own daemon; backups land in the
 * bucket of their node's destination; a wrong secret is refused when saved and when tested, with
 * S3's own code; a backup sent to a refusing destination fails at once; presigned URLs are checked;
 * verification reads an object back through radosgw and finds it damaged when it was replaced.
 * Both databases, one radosgw.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SINGLE_REQUEST_COPY_LIMIT } from '../../src/panel/services/backup-copies.service.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startRadosgw, type Radosgw } from '../support/radosgw.ts';
import { startHarness, type Harness } from '../panel/support/harness.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startDaemon, type DaemonHandle } from '../../src/daemon/main.ts';
import { parseDaemonConfig, renderDaemonConfig } from '../../src/daemon/config.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { backupOnVolume, finishedCopy } from './backup-on-volume.ts';

let rgw: Radosgw;
let s3: S3Client;
before(async () => {
  rgw = await startRadosgw();
  s3 = rgw.client();
});
after(async () => {
  s3?.destroy();
  await rgw?.stop();
});

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** One signature digit changed. */
function tampered(url: string): string {
  const u = new URL(url);
  const sig = u.searchParams.get('X-Amz-Signature')!;
  u.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
  return u.toString();
}

for (const db of await testDatabaseUrls()) {
  describe(`destinations on radosgw (${db.name})`, () => {
    let h: Harness;
    let adminKey: string;
    let daemon2: DaemonHandle;
    let root2: string;
    let node2Id: number;
    const bucketA = `${db.name}-dest-a`;
    const bucketB = `${db.name}-dest-b`;
    const admin = (method: string, path: string, body?: unknown) => h.api(method, `/api/application${path}`, { key: adminKey, ...(body === undefined ? {} : { body }) });
    const s3Body = (name: string, bucket: string, extra: Record<string, unknown> = {}) => ({
      name, kind: 's3', endpoint: rgw.endpoint, region: rgw.region, bucket, access_key_id: rgw.accessKeyId, secret_access_key: rgw.secretAccessKey, path_style: true, ...extra,
    });

    before(async () => {
      await rgw.createBucket(bucketA);
      await rgw.createBucket(bucketB);
      h = await startHarness({ databaseUrl: await db.url(), env: { BACKUP_THROTTLE_PERIOD: '0', BACKUP_MAX_PART_SIZE: String(5 * 1024 * 1024) } });
      adminKey = (await h.user('root@example.com', { rootAdmin: true, type: 'application' })).key;
      const created = await h.ctx.services.nodes.create({ name: 'node-2', url: 'http://127.0.0.1:1' });
      node2Id = created.id;
      root2 = mkdtempSync(join(tmpdir(), 'backwing-rgw-daemon-'));
      daemon2 = await startDaemon(parseDaemonConfig(renderDaemonConfig({
        uuid: created.uuid, tokenId: created.tokenId, token: created.token, remote: h.url,
        apiHost: '127.0.0.1', apiPort: 0, rootDirectory: root2, dataDirectory: join(root2, 'volumes'),
        backupDirectory: join(root2, 'backups'), restoreHostAllowlist: ['127.0.0.1'], remoteQueryTimeout: 5,
      }), 'test'), { logger: silentLogger() });
      await h.ctx.services.nodes.update(created.id, { url: daemon2.url });
    });
    after(async () => {
      await daemon2?.close().catch(() => {});
      if (root2) rmSync(root2, { recursive: true, force: true });
      await h?.close();
    });

    const backupOf = (server: ServerRow, root: string, name: string) => backupOnVolume(h, server, root, name);

    test('a wrong secret or key is refused when saved and when tested, with S3\'s own code', async () => {
      const wrongSecret = await admin('POST', '/destinations', s3Body('bad-secret', bucketA, { secret_access_key: 'not-the-secret' }));
      assert.equal(wrongSecret.status, 422, wrongSecret.text);
      assert.match(wrongSecret.body.errors[0].detail, /SignatureDoesNotMatch/);
      const wrongKey = await admin('POST', '/destinations', s3Body('bad-key', bucketA, { access_key_id: 'AKNOBODY' }));
      assert.equal(wrongKey.status, 422);
      assert.match(wrongKey.body.errors[0].detail, /InvalidAccessKeyId/);
      const noBucket = await admin('POST', '/destinations', s3Body('no-bucket', `${db.name}-missing`));
      assert.equal(noBucket.status, 422);
      assert.match(noBucket.body.errors[0].detail, /NoSuchBucket/);

      // Nothing listens there: refused at once, saying the endpoint cannot be reached.
      const started = Date.now();
      const unreachable = await admin('POST', '/destinations', s3Body('gone', bucketA, { endpoint: 'http://127.0.0.1:1' }));
      assert.equal(unreachable.status, 422, unreachable.text);
      assert.match(unreachable.body.errors[0].detail, /cannot be reached \(ECONNREFUSED\)/);
      assert.ok(Date.now() - started < 15_000, `not retried for long (${Date.now() - started} ms)`);
      assert.equal((await admin('POST', '/destinations', s3Body('gone', bucketA, { endpoint: 'http://127.0.0.1:1', skip_test: true }))).status, 201);
      const goneTest = await admin('POST', '/destinations/gone/test');
      assert.deepEqual([goneTest.body.attributes.ok, goneTest.body.attributes.s3_error], [false, null]);
      assert.match(goneTest.body.attributes.message, /ECONNREFUSED/);

      const saved = await admin('POST', '/destinations', s3Body('bad-secret', bucketA, { secret_access_key: 'not-the-secret', skip_test: true }));
      assert.equal(saved.status, 201, saved.text);
      const tested = await admin('POST', '/destinations/bad-secret/test');
      assert.deepEqual([tested.body.attributes.ok, tested.body.attributes.s3_error], [false, 'SignatureDoesNotMatch']);
    });

    test('backups on two nodes land in their destinations\' buckets; signed URLs are checked', async () => {
      for (const [name, bucket] of [['dest-a', bucketA], ['dest-b', bucketB]] as const) {
        const made = await admin('POST', '/destinations', s3Body(name, bucket));
        assert.equal(made.status, 201, made.text);
        const tested = await admin('POST', `/destinations/${name}/test`);
        assert.equal(tested.body.attributes.ok, true, tested.text);
      }
      assert.equal((await admin('PUT', `/nodes/${h.node.id}/destination`, { destination: 'dest-a' })).status, 204);
      assert.equal((await admin('PUT', `/nodes/${node2Id}/destination`, { destination: 'dest-b' })).status, 204);
      const s1 = await h.server(h.owner.id);
      const created2 = await h.ctx.services.servers.create({ name: 'srv-2', ownerId: h.owner.id, nodeId: node2Id, backupLimit: 5 });
      const s2 = (await h.ctx.repos.servers.findById(created2.id))!;

      const [b1, b2] = await Promise.all([backupOf(s1, h.daemonRoot!, 'on-node-1'), backupOf(s2, root2, 'on-node-2')]);
      assert.equal(b1.is_successful, 1, b1.failure_reason ?? '');
      assert.equal(b2.is_successful, 1, b2.failure_reason ?? '');
      assert.equal(b1.disk, 's3');
      assert.ok(await exists(bucketA, `${s1.uuid}/${b1.uuid}.tar.gz`), 'node-1 → bucket A');
      assert.ok(await exists(bucketB, `${s2.uuid}/${b2.uuid}.tar.gz`), 'node-2 → bucket B');
      assert.ok(!(await exists(bucketB, `${s1.uuid}/${b1.uuid}.tar.gz`)));
      assert.ok(!(await exists(bucketA, `${s2.uuid}/${b2.uuid}.tar.gz`)));

      const dl = await h.api('GET', `/api/client/servers/${s2.identifier}/backups/${b2.uuid}/download`);
      assert.equal(dl.status, 200, dl.text);
      const url = dl.body.attributes.url as string;
      const good = await fetch(url);
      assert.equal(good.status, 200);
      assert.equal(Number(good.headers.get('content-length')), Number(b2.bytes));
      await good.arrayBuffer();
      const bad = await fetch(tampered(url));
      assert.equal(bad.status, 403);
      assert.match(await bad.text(), /SignatureDoesNotMatch/);
      const unsigned = new URL(url);
      unsigned.searchParams.delete('X-Amz-Signature');
      assert.equal((await fetch(unsigned)).status, 403);

      // A presigned part URL is checked too: with a changed signature the PUT is refused.
      const destB = (await h.ctx.repos.destinations.findByName('dest-b'))!;
      const pending = await h.ctx.repos.backups.insert({ server_id: s2.id, uuid: randomUUID(), name: 'pending', ignored_files: [], disk: 's3', is_locked: false, at: new Date().toISOString(), destination_id: destB.id });
      const urls = await h.ctx.services.remote.uploadUrls((await h.ctx.repos.nodes.findById(node2Id))!, pending.uuid, String(6 * 1024 * 1024));
      assert.equal(urls.parts.length, 2);
      const put = await fetch(tampered(urls.parts[0]!), { method: 'PUT', body: 'x' });
      assert.equal(put.status, 403);
      assert.match(await put.text(), /SignatureDoesNotMatch/);
      const ok = await fetch(urls.parts[0]!, { method: 'PUT', body: 'x' });
      assert.equal(ok.status, 200);
    });

    test('over the single-request limit a copy is made in parts: UploadPartCopy within one account, ranged GET → UploadPart across accounts', async () => {
      const MiB = 1024 * 1024;
      const other = await rgw.createUser(`${db.name}-other`);
      const farBucket = `${db.name}-parts-far`;
      const farClient = other.client();
      try {
        await farClient.send(new CreateBucketCommand({ Bucket: farBucket }));
        for (const b of [`${db.name}-parts-src`, `${db.name}-parts-near`]) await rgw.createBucket(b);
        const mk = async (body: Record<string, unknown>) => {
          const r = await admin('POST', '/destinations', { ...s3Body(body.name as string, body.bucket as string), part_size: 5 * MiB, ...body });
          assert.equal(r.status, 201, r.text);
        };
        await mk({ name: 'parts-near', bucket: `${db.name}-parts-near`, prefix: 'near' });
        await mk({ name: 'parts-far', bucket: farBucket, access_key_id: other.accessKeyId, secret_access_key: other.secretAccessKey });
        // The backups themselves go up in one 16 MiB part, so a 3-part copy was cut by the copy.
        await mk({ name: 'parts-src', bucket: `${db.name}-parts-src`, prefix: 'one', copy_to: 'parts-near', part_size: 16 * MiB });
        await mk({ name: 'parts-src2', bucket: `${db.name}-parts-src`, prefix: 'two', copy_to: 'parts-far', part_size: 16 * MiB });
        // 12 MiB of random bytes (gzip keeps them ~12 MiB): with 5 MiB parts, 3 parts.
        h.ctx.services.copies.singleRequestLimit = 8 * MiB;
        const servers = [await h.server(h.owner.id), await h.server(h.owner.id)];
        for (const [i, s] of servers.entries()) {
          assert.equal((await admin('PUT', `/servers/${s.identifier}/destination`, { destination: i === 0 ? 'parts-src' : 'parts-src2' })).status, 204);
          const vol = join(h.daemonRoot!, 'volumes', s.uuid);
          mkdirSync(vol, { recursive: true });
          writeFileSync(join(vol, 'region.mca'), randomBytes(12 * MiB));
        }
        const backups = await Promise.all(servers.map((s, i) => backupOf(s, h.daemonRoot!, `parts-${i}`)));
        const where = [[s3, `${db.name}-parts-near`, 'near/'], [farClient, farBucket, '']] as const;
        for (const [i, b] of backups.entries()) {
          assert.equal(b.is_successful, 1, b.failure_reason ?? '');
          assert.ok(Number(b.bytes) > 10 * MiB, `archive of ${b.bytes} bytes`);
          const copy = await finishedCopy(h, b.id, 60_000);
          assert.equal(copy.status, 'done', copy.error ?? '');
          assert.equal(copy.checksum, b.checksum, 'read back and checked against the backup');
          const source = await s3.send(new HeadObjectCommand({ Bucket: `${db.name}-parts-src`, Key: `${i === 0 ? 'one' : 'two'}/${servers[i]!.uuid}/${b.uuid}.tar.gz` }));
          assert.doesNotMatch(source.ETag ?? '', /-3"$/);
          const [client, bucket, prefix] = where[i]!;
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${servers[i]!.uuid}/${b.uuid}.tar.gz` }));
          assert.equal(head.ContentLength, Number(b.bytes));
          // S3 names a multipart object's ETag "<md5 of the part md5s>-<parts>".
          assert.match(head.ETag ?? '', /-3"$/, `made in 3 parts: ${head.ETag}`);
        }
        for (const s of servers) await admin('PUT', `/servers/${s.identifier}/destination`, { destination: null });
      } finally {
        h.ctx.services.copies.singleRequestLimit = SINGLE_REQUEST_COPY_LIMIT;
        farClient.destroy();
      }
    });

    test('verification reads the object back from radosgw: good after upload, damaged when replaced (issue 17)', async () => {
      // The post-upload read-back is a setting (it costs egress); on for this test only.
      h.ctx.config.verify.s3ReadBack = true;
      try {
        const s = await h.server(h.owner.id);
        const b = await backupOf(s, h.daemonRoot!, 'read back');
        assert.equal(b.is_successful, 1, b.failure_reason ?? '');
        assert.equal(b.verification, 'good', 'read back through a presigned GET before it was recorded good');
        const key = `${s.uuid}/${b.uuid}.tar.gz`;
        const obj = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucketA, Key: key }))).Body!.transformToByteArray());
        const verify = async () => {
          const r = await h.api('POST', `/api/client/servers/${s.identifier}/backups/${b.uuid}/verify`);
          assert.equal(r.status, 200, r.text);
          return r.body.attributes as { verification: string; damage_reason: string | null };
        };
        assert.equal((await verify()).verification, 'good');
        // Same size, one byte changed mid-object: only reading the bytes back finds it.
        const flipped = Buffer.from(obj);
        flipped[flipped.length >> 1]! ^= 0x01;
        await s3.send(new PutObjectCommand({ Bucket: bucketA, Key: key, Body: flipped }));
        const damaged = await verify();
        assert.equal(damaged.verification, 'damaged');
        assert.match(damaged.damage_reason ?? '', /gzip member \d+|CRC|mismatch/);
        // A shorter object put in its place.
        await s3.send(new PutObjectCommand({ Bucket: bucketA, Key: key, Body: obj.subarray(0, obj.length - 100) }));
        const shorter = await verify();
        assert.equal(shorter.verification, 'damaged');
        assert.equal(shorter.damage_reason, `the stored object is ${obj.length - 100} bytes, the backup recorded ${obj.length}`);
        assert.ok(await exists(bucketA, key), 'a damaged backup\'s object is never deleted');
        assert.equal((await h.backup(b.uuid))!.deleted_at, null);
      } finally {
        h.ctx.config.verify.s3ReadBack = false;
      }
    });

    test('a backup sent to a destination S3 refuses fails at once, naming S3\'s code', async () => {
      const s = await h.server(h.owner.id);
      assert.equal((await admin('PUT', `/servers/${s.identifier}/destination`, { destination: 'bad-secret' })).status, 204);
      const started = Date.now();
      const b = await backupOf(s, h.daemonRoot!, 'refused');
      assert.equal(b.is_successful, 0);
      assert.match(b.failure_reason ?? '', /SignatureDoesNotMatch/);
      assert.ok(Date.now() - started < 20_000, `a refusal is not retried for minutes (${Date.now() - started} ms)`);

      // An endpoint nothing answers on: the backup fails at once too (the daemon's part-URL
      // request is not retried for its 30 s budget), saying why.
      assert.equal((await admin('PUT', `/servers/${s.identifier}/destination`, { destination: 'gone' })).status, 204);
      const at = Date.now();
      const g = await backupOf(s, h.daemonRoot!, 'unreachable');
      assert.equal(g.is_successful, 0);
      assert.match(g.failure_reason ?? '', /cannot be reached \(ECONNREFUSED\)/);
      assert.ok(Date.now() - at < 20_000, `not retried for its whole budget (${Date.now() - at} ms)`);
      await admin('PUT', `/servers/${s.identifier}/destination`, { destination: null });
    });
  });
}
