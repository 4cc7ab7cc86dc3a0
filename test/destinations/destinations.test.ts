/**
 * Backup destinations (issue 15) on both databases, with the real daemon and fauxqs (no
 * signatures here; test/destinations/radosgw.test.ts proves those): the environment becomes the
 * default destination on upgrade, each backup records where it went, a server override and a node
 * assignment send new backups elsewhere without orphaning old ones, and the application API's
 * rules (validation, test connection, 409 on delete).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Migrator, type Migration } from 'kysely';
import { S3Client, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { testDatabaseUrls } from '../support/postgres.ts';
import { BUCKET, startHarness, waitFor, type Harness } from '../panel/support/harness.ts';
import { createDatabase } from '../../src/panel/db/database.ts';
import { panelMigrations } from '../../src/panel/db/migrations/index.ts';
import { SecretBox } from '../../src/core/secret-box.ts';
import { TEST_APP_KEY, TEST_APP_KEY_BYTES } from '../support/app-key.ts';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext } from '../../src/panel/context.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { backupOnVolume, finishedCopy } from './backup-on-volume.ts';
import { fauxqsClient } from '../support/fauxqs-client.ts';

const SECOND = 'second-bucket';

const s3Client = fauxqsClient;

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

for (const db of await testDatabaseUrls()) {
  describe(`destinations (${db.name})`, () => {
    let h: Harness;
    let s3: S3Client;
    let adminKey: string;
    const admin = (method: string, path: string, body?: unknown) => h.api(method, `/api/application${path}`, { key: adminKey, ...(body === undefined ? {} : { body }) });

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3', env: { BACKUP_THROTTLE_PERIOD: '0' } });
      h.s3!.createBucket(SECOND);
      s3 = s3Client(h.s3!.port);
      adminKey = (await h.user('root@example.com', { rootAdmin: true, type: 'application' })).key;
    });
    after(async () => {
      s3?.destroy();
      await h?.close();
    });

    const backupOf = (server: ServerRow, name: string) => backupOnVolume(h, server, h.daemonRoot!, name);

    test('the environment became the destinations "local" and "s3" (the default, secret sealed)', async () => {
      const list = await admin('GET', '/destinations');
      assert.equal(list.status, 200, list.text);
      const byName = Object.fromEntries(list.body.data.map((d: any) => [d.attributes.name, d.attributes]));
      assert.equal(byName.local.kind, 'local');
      assert.equal(byName.s3.kind, 's3');
      assert.equal(byName.s3.is_default, true);
      assert.equal(byName.local.is_default, false);
      assert.equal(byName.s3.bucket, BUCKET);
      assert.equal(byName.s3.has_secret, true);
      assert.ok(!('secret_access_key' in byName.s3), 'the secret is never shown');
      const row = await h.ctx.repos.destinations.findByName('s3');
      assert.match(row!.secret_access_key!, /^bw1:/, 'sealed at rest');
    });

    test('a server override and a node assignment route new backups; older ones stay where they are and still download', async () => {
      const made = await admin('POST', '/destinations', {
        name: 'eu', kind: 's3', endpoint: `http://127.0.0.1:${h.s3!.port}`, region: 'eu-west-1', bucket: SECOND, prefix: 'eu',
        access_key_id: 'test', secret_access_key: 'test', path_style: true,
      });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.attributes.prefix, 'eu/');
      const eu = made.body.attributes;

      const a = await h.server(h.owner.id);
      const b = await h.server(h.owner.id);
      const first = await backupOf(a, 'a-default');
      assert.equal(first.is_successful, 1, first.failure_reason ?? '');
      const dflt = await h.ctx.repos.destinations.findByName('s3');
      assert.equal(first.destination_id, dflt!.id);
      assert.ok(await exists(s3, BUCKET, `${a.uuid}/${first.uuid}.tar.gz`));

      assert.equal((await admin('PUT', `/servers/${b.identifier}/destination`, { destination: 'eu' })).status, 204);
      const second = await backupOf(b, 'b-eu');
      assert.equal(second.is_successful, 1, second.failure_reason ?? '');
      assert.equal(second.destination_id, eu.id);
      assert.ok(await exists(s3, SECOND, `eu/${b.uuid}/${second.uuid}.tar.gz`), 'in the second bucket under the prefix');
      assert.ok(!(await exists(s3, BUCKET, `${b.uuid}/${second.uuid}.tar.gz`)));

      // The node moves to "eu": a's next backup goes there, its first still downloads from the old bucket.
      assert.equal((await admin('PUT', `/nodes/${h.node.id}/destination`, { destination: eu.uuid })).status, 204);
      const third = await backupOf(a, 'a-eu');
      assert.equal(third.destination_id, eu.id);
      const dl = await h.api('GET', `/api/client/servers/${a.identifier}/backups/${first.uuid}/download`);
      assert.equal(dl.status, 200, dl.text);
      const url = new URL(dl.body.attributes.url);
      assert.equal(url.pathname, `/${BUCKET}/${a.uuid}/${first.uuid}.tar.gz`);
      const got = await fetch(url);
      assert.equal(got.status, 200);
      assert.ok((await got.arrayBuffer()).byteLength > 0);

      // In use: deleting "eu" is refused with a clear 409; "s3" is the default and refused too.
      const refused = await admin('DELETE', `/destinations/${eu.id}`);
      assert.equal(refused.status, 409, refused.text);
      assert.match(refused.body.errors[0].detail, /still holds 2 backups/);
      const dfltRefused = await admin('DELETE', '/destinations/s3');
      assert.equal(dfltRefused.status, 409);
      assert.match(dfltRefused.body.errors[0].detail, /is the default/);

      // Delete the backups and unassign: then "eu" can go.
      for (const [srv, bk] of [[a, third], [b, second]] as const) {
        const del = await h.api('DELETE', `/api/client/servers/${srv.identifier}/backups/${bk.uuid}`);
        assert.equal(del.status, 204, `${del.status} ${del.text}`);
      }
      assert.ok(!(await exists(s3, SECOND, `eu/${b.uuid}/${second.uuid}.tar.gz`)), 'deleted from its own destination');
      const assigned = await admin('DELETE', `/destinations/${eu.id}`);
      assert.equal(assigned.status, 409);
      assert.match(assigned.body.errors[0].detail, /assigned to node "node-1"/);
      assert.equal((await admin('PUT', `/nodes/${h.node.id}/destination`, { destination: null })).status, 204);
      assert.equal((await admin('PUT', `/servers/${b.identifier}/destination`, { destination: null })).status, 204);
      const gone = await admin('DELETE', `/destinations/${eu.id}`);
      assert.equal(gone.status, 204, gone.text);
    });

    test('copies: streamed to another provider and server-side within one, verified, shown, used when the first is down, deleted with it', async () => {
      const { startFauxqs } = await import('fauxqs');
      const far = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
      far.createBucket('offsite');
      h.s3!.createBucket('near-copy');
      const farClient = s3Client(far.port);
      try {
        const mk = async (body: Record<string, unknown>) => {
          const r = await admin('POST', '/destinations', { kind: 's3', region: 'us-east-1', access_key_id: 'test', secret_access_key: 'test', path_style: true, ...body });
          assert.equal(r.status, 201, r.text);
          return r.body.attributes;
        };
        const offsite = await mk({ name: 'offsite', endpoint: `http://127.0.0.1:${far.port}`, bucket: 'offsite' });
        const near = await mk({ name: 'near-copy', endpoint: `http://127.0.0.1:${h.s3!.port}`, bucket: 'near-copy' });
        const primary = await mk({ name: 'primary', endpoint: `http://127.0.0.1:${h.s3!.port}`, bucket: SECOND, prefix: 'p', copy_to: 'offsite' });
        const primary2 = await mk({ name: 'primary2', endpoint: `http://127.0.0.1:${h.s3!.port}`, bucket: SECOND, prefix: 'q', copy_to: near.id });
        assert.equal(primary.copy_to, offsite.id);
        const toLocal = await admin('PATCH', '/destinations/offsite', { copy_to: 'local' });
        assert.equal(toLocal.status, 422, 'a node\'s disk receives no copies');
        assert.match(toLocal.body.errors[0].detail, /to an S3 destination/);

        const srv = await h.server(h.owner.id);
        const srv2 = await h.server(h.owner.id);
        await admin('PUT', `/servers/${srv.identifier}/destination`, { destination: 'primary' });
        await admin('PUT', `/servers/${srv2.identifier}/destination`, { destination: 'primary2' });
        const [b, b2] = await Promise.all([backupOf(srv, 'copied'), backupOf(srv2, 'copied-near')]);
        assert.equal(b.is_successful, 1, b.failure_reason ?? '');
        const copyOf = (id: number) => finishedCopy(h, id);
        const c = await copyOf(b.id);
        assert.equal(c.status, 'done', c.error ?? '');
        assert.equal(c.checksum, b.checksum, 'verified against the backup\'s checksum');
        assert.ok(await exists(farClient, 'offsite', `${srv.uuid}/${b.uuid}.tar.gz`), 'streamed to the other provider');
        const c2 = await copyOf(b2.id);
        assert.equal(c2.status, 'done', c2.error ?? '');
        assert.ok(await exists(s3, 'near-copy', `${srv2.uuid}/${b2.uuid}.tar.gz`), 'copied server-side within one provider');

        const view = await h.api('GET', `/api/client/servers/${srv.identifier}/backups/${b.uuid}`);
        assert.equal(view.body.attributes.destination, 'primary');
        assert.equal(view.body.attributes.copies, 1);
        const list = await h.api('GET', `/api/client/servers/${srv.identifier}/backups`);
        assert.equal(list.body.data[0].attributes.copies, 1);

        // The first destination goes away: download (and restore, the same URL) use the copy.
        const closed = `http://127.0.0.1:1`;
        assert.equal((await admin('PATCH', '/destinations/primary', { endpoint: closed, skip_test: true })).status, 200);
        const dl = await h.api('GET', `/api/client/servers/${srv.identifier}/backups/${b.uuid}/download`);
        assert.equal(dl.status, 200, dl.text);
        assert.ok(dl.body.attributes.url.startsWith(`http://127.0.0.1:${far.port}/offsite/`), dl.body.attributes.url);
        const got = await fetch(dl.body.attributes.url);
        assert.equal(got.status, 200);
        assert.equal((await got.arrayBuffer()).byteLength, Number(b.bytes));

        // Back up again: deleting the backup deletes its copy too.
        assert.equal((await admin('PATCH', '/destinations/primary', { endpoint: `http://127.0.0.1:${h.s3!.port}` })).status, 200);
        assert.equal((await h.api('DELETE', `/api/client/servers/${srv.identifier}/backups/${b.uuid}`)).status, 204);
        assert.ok(!(await exists(farClient, 'offsite', `${srv.uuid}/${b.uuid}.tar.gz`)), 'the copy went with it');
        assert.deepEqual(await h.ctx.repos.destinations.copiesOf([b.id]), []);
        await admin('PUT', `/servers/${srv.identifier}/destination`, { destination: null });
        await admin('PUT', `/servers/${srv2.identifier}/destination`, { destination: null });
      } finally {
        farClient.destroy();
        await far.stop();
      }
    });

    test('copies of local archives: the node uploads its file, verified, shown, used when the node lost it (download, restore), deleted with it', async () => {
      h.s3!.createBucket('local-copies');
      const made = await admin('POST', '/destinations', {
        name: 'local-copies', kind: 's3', endpoint: `http://127.0.0.1:${h.s3!.port}`, region: 'us-east-1', bucket: 'local-copies',
        access_key_id: 'test', secret_access_key: 'test', path_style: true, part_size: 5 * 1024 * 1024,
      });
      assert.equal(made.status, 201, made.text);
      assert.equal((await admin('PATCH', '/destinations/local', { copy_to: 'local-copies' })).status, 200);
      const srv = await h.server(h.owner.id);
      try {
        assert.equal((await admin('PUT', `/servers/${srv.identifier}/destination`, { destination: 'local' })).status, 204);
        // 7 MiB of random bytes: two parts of 5 MiB from the node, in two rounds of one part (each
        // round's URLs presigned when it starts, so a long upload never uses an expired URL).
        const vol = join(h.daemonRoot!, 'volumes', srv.uuid);
        mkdirSync(vol, { recursive: true });
        writeFileSync(join(vol, 'region.mca'), randomBytes(7 * 1024 * 1024));
        const rounds: Array<{ first_part?: number; parts: string[] }> = [];
        const daemon = h.ctx.deps.daemon;
        const copyBackup = daemon.copyBackup;
        daemon.copyBackup = (node, s, bu, body, ms) => {
          rounds.push(body);
          return copyBackup(node, s, bu, body, ms);
        };
        h.ctx.services.copies.firstRoundBytes = 1;
        const b = await backupOf(srv, 'local-copied');
        assert.equal(b.is_successful, 1, b.failure_reason ?? '');
        assert.equal(b.disk, 'wings');
        const c = await finishedCopy(h, b.id);
        daemon.copyBackup = copyBackup;
        h.ctx.services.copies.firstRoundBytes = 256 * 1024 * 1024;
        assert.equal(c.status, 'done', c.error ?? '');
        assert.deepEqual(rounds.map((r) => [r.first_part, r.parts.map((u) => new URL(u).searchParams.get('partNumber'))]), [[1, ['1']], [2, ['2']]]);
        assert.equal(c.checksum, b.checksum, 'verified against the backup\'s checksum');
        const head = await s3.send(new HeadObjectCommand({ Bucket: 'local-copies', Key: `${srv.uuid}/${b.uuid}.tar.gz` }));
        assert.equal(head.ContentLength, Number(b.bytes));
        const view = await h.api('GET', `/api/client/servers/${srv.identifier}/backups/${b.uuid}`);
        assert.deepEqual([view.body.attributes.destination, view.body.attributes.copies], ['local', 1]);

        // While the node holds the archive, the download is the node's.
        const fromNode = await h.api('GET', `/api/client/servers/${srv.identifier}/backups/${b.uuid}/download`);
        assert.ok(fromNode.body.attributes.url.startsWith(h.daemon!.url), fromNode.body.attributes.url);
        // The node loses it: download and restore use the copy.
        const archive = readdirSync(join(h.daemonRoot!, 'backups'), { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(`${b.uuid}.tar.gz`));
        assert.ok(archive, 'the node wrote the archive');
        rmSync(join(h.daemonRoot!, 'backups', archive));
        const dl = await h.api('GET', `/api/client/servers/${srv.identifier}/backups/${b.uuid}/download`);
        assert.equal(dl.status, 200, dl.text);
        assert.ok(dl.body.attributes.url.startsWith(`http://127.0.0.1:${h.s3!.port}/local-copies/`), dl.body.attributes.url);
        const got = await fetch(dl.body.attributes.url);
        assert.equal((await got.arrayBuffer()).byteLength, Number(b.bytes));
        writeFileSync(join(vol, 'level.dat'), 'changed since');
        const restore = await h.api('POST', `/api/client/servers/${srv.identifier}/backups/${b.uuid}/restore`, { body: { truncate: true } });
        assert.equal(restore.status, 204, restore.text);
        await waitFor('restore from the copy', async () => (await h.ctx.repos.servers.findById(srv.id))!.status === null, 30_000);
        assert.equal(readFileSync(join(vol, 'level.dat'), 'utf8'), 'world of local-copied');

        assert.equal((await h.api('DELETE', `/api/client/servers/${srv.identifier}/backups/${b.uuid}`)).status, 204);
        assert.ok(!(await exists(s3, 'local-copies', `${srv.uuid}/${b.uuid}.tar.gz`)), 'the copy went with it');
        assert.deepEqual(await h.ctx.repos.destinations.copiesOf([b.id]), []);
      } finally {
        await admin('PATCH', '/destinations/local', { copy_to: null });
        await admin('PUT', `/servers/${srv.identifier}/destination`, { destination: null });
      }
    });

    test('the admin page\'s session: a root admin\'s session may manage destinations (with the CSRF header), others may not', async () => {
      assert.equal((await h.api('GET', '/api/application/destinations', { key: null })).status, 401);
      const sessionOf = async (email: string, password: string) => {
        const login = await h.api('POST', '/auth/login', { key: null, body: { email, password } });
        assert.equal(login.status, 200, login.text);
        const cookies = login.headers.getSetCookie().map((c: string) => c.split(';')[0]!);
        const token = cookies.find((c: string) => c.startsWith('XSRF-TOKEN='))!.split('=')[1]!;
        return { cookie: cookies.join('; '), token };
      };
      const owner = await sessionOf('owner@example.com', 'owner-password');
      assert.equal((await h.api('GET', '/api/application/destinations', { key: null, headers: { cookie: owner.cookie } })).status, 403);
      await h.ctx.services.users.create({ email: 'boss@example.com', password: 'boss-password', rootAdmin: true });
      const boss = await sessionOf('boss@example.com', 'boss-password');
      const listed = await h.api('GET', '/api/application/destinations', { key: null, headers: { cookie: boss.cookie } });
      assert.equal(listed.status, 200, listed.text);
      const noCsrf = await h.api('POST', '/api/application/destinations', { key: null, headers: { cookie: boss.cookie }, body: { name: 'x', kind: 'local' } });
      assert.equal(noCsrf.status, 419);
      const made = await h.api('POST', '/api/application/destinations', { key: null, headers: { cookie: boss.cookie, 'x-xsrf-token': decodeURIComponent(boss.token) }, body: { name: 'by-session', kind: 'local' } });
      assert.equal(made.status, 201, made.text);
      assert.equal((await admin('DELETE', '/destinations/by-session')).status, 204);
    });

    test('validation and test connection: S3\'s own code, at once; making another destination the default', async () => {
      const noBucket = await admin('POST', '/destinations', { name: 'x', kind: 's3' });
      assert.equal(noBucket.status, 422);
      assert.equal(noBucket.body.errors[0].meta.source_field, 'bucket');
      const badKind = await admin('POST', '/destinations', { name: 'x', kind: 'ftp' });
      assert.equal(badKind.status, 422);
      const dup = await admin('POST', '/destinations', { name: 'local', kind: 'local' });
      assert.equal(dup.status, 422);
      assert.match(dup.body.errors[0].detail, /already taken/);
      const badPrefix = await admin('POST', '/destinations', { name: 'x', kind: 's3', bucket: SECOND, prefix: '../up' });
      assert.equal(badPrefix.status, 422);
      const badPart = await admin('POST', '/destinations', { name: 'x', kind: 's3', bucket: SECOND, part_size: 1024 });
      assert.equal(badPart.status, 422);

      const started = Date.now();
      const missing = await admin('POST', '/destinations', {
        name: 'nowhere', kind: 's3', endpoint: `http://127.0.0.1:${h.s3!.port}`, bucket: 'no-such-bucket', access_key_id: 'test', secret_access_key: 'test', path_style: true,
      });
      assert.equal(missing.status, 422, missing.text);
      assert.equal(missing.body.errors[0].code, 'DestinationRefused');
      assert.match(missing.body.errors[0].detail, /NoSuchBucket/);
      assert.ok(Date.now() - started < 15_000, 'a refusal is not retried for minutes');

      const saved = await admin('POST', '/destinations', {
        name: 'later', kind: 's3', endpoint: `http://127.0.0.1:${h.s3!.port}`, bucket: 'not-yet', access_key_id: 'test', secret_access_key: 'test', path_style: true, skip_test: true,
      });
      assert.equal(saved.status, 201, saved.text);
      const tested = await admin('POST', '/destinations/later/test');
      assert.equal(tested.status, 200);
      assert.equal(tested.body.attributes.ok, false);
      assert.equal(tested.body.attributes.s3_error, 'NoSuchBucket');
      h.s3!.createBucket('not-yet');
      const ok = await admin('POST', '/destinations/later/test');
      assert.equal(ok.body.attributes.ok, true, ok.text);

      const made = await admin('PATCH', '/destinations/later', { is_default: true });
      assert.equal(made.status, 200, made.text);
      assert.equal(made.body.attributes.is_default, true);
      const list = (await admin('GET', '/destinations')).body.data.map((d: any) => d.attributes);
      assert.deepEqual(list.filter((d: any) => d.is_default).map((d: any) => d.name), ['later']);
      const unset = await admin('PATCH', '/destinations/later', { is_default: false });
      assert.equal(unset.status, 409);
      assert.equal((await admin('PATCH', '/destinations/s3', { is_default: true })).status, 200);
      assert.equal((await admin('DELETE', '/destinations/later')).status, 204);
      assert.equal((await admin('GET', '/destinations/later')).status, 404);
    });
  });

  test(`upgrade (${db.name}): a database from before destinations, with S3 in the environment, keeps its backups downloadable`, async () => {
    const url = await db.url();
    const old = createDatabase(url);
    const before: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(panelMigrations(new SecretBox([TEST_APP_KEY_BYTES])))) if (name < '0007') before[name] = m;
    const { error } = await new Migrator({ db: old.db, provider: { getMigrations: async () => before } }).migrateToLatest();
    assert.equal(error, undefined);
    const at = new Date().toISOString();
    const serverUuid = randomUUID();
    const backupUuid = randomUUID();
    const raw = old.db as any;
    await raw.insertInto('users').values({ uuid: randomUUID(), email: 'o@example.com', username: 'o', password_hash: 'x', root_admin: 0, created_at: at, updated_at: at }).execute();
    await raw.insertInto('nodes').values({ uuid: randomUUID(), name: 'n', url: 'http://127.0.0.1:9', daemon_token_id: 'tid', daemon_token: 'tok', maintenance: 0, created_at: at, updated_at: at }).execute();
    await raw.insertInto('servers').values({ uuid: serverUuid, identifier: serverUuid.slice(0, 8), name: 's', owner_id: 1, node_id: 1, status: null, backup_limit: 3, created_at: at, updated_at: at }).execute();
    await raw.insertInto('backups').values({ server_id: 1, uuid: backupUuid, upload_id: null, is_successful: 1, is_locked: 0, name: 'old', ignored_files: '[]', disk: 's3', checksum: 'sha256:00', bytes: 7, completed_at: at, created_at: at, updated_at: at, deleted_at: null }).execute();
    await old.close();

    const { startFauxqs } = await import('fauxqs');
    const fx = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    fx.createBucket('old-bucket');
    const client = s3Client(fx.port);
    await client.send(new PutObjectCommand({ Bucket: 'old-bucket', Key: `${serverUuid}/${backupUuid}.tar.gz`, Body: 'archive' }));
    const config = loadPanelConfig({
      DATABASE_URL: url, APP_KEY: TEST_APP_KEY, APP_BACKUP_DRIVER: 's3', AWS_BACKUPS_BUCKET: 'old-bucket', AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT: `http://127.0.0.1:${fx.port}`,
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_USE_PATH_STYLE_ENDPOINT: 'true',
    });
    const ctx = await openPanelContext(config);
    try {
      const dest = await ctx.repos.destinations.findDefault();
      assert.equal(dest?.kind, 's3');
      assert.equal(dest?.bucket, 'old-bucket');
      const backup = (await ctx.repos.backups.findAnyByUuid(backupUuid))!;
      assert.equal(backup.destination_id, dest!.id, 'the old backup is pinned to the imported destination');
      const server = (await ctx.repos.servers.findById(1))!;
      const node = (await ctx.repos.nodes.findById(1))!;
      const user = (await ctx.repos.users.findById(1))!;
      const link = await ctx.services.backups.downloadUrl({ server, node }, backup, { userId: 1, userUuid: user.uuid, rootAdmin: false, apiKeyId: null, ip: null });
      const got = await fetch(link);
      assert.equal(got.status, 200);
      assert.equal(await got.text(), 'archive');
      // A second start imports nothing again.
      const again = await openPanelContext(config);
      assert.equal((await again.repos.destinations.list()).length, 2);
      await again.close();
    } finally {
      await ctx.close();
      client.destroy();
      await fx.stop();
    }
  });
}
