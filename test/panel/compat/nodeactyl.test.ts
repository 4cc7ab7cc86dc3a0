/**
 * nodeactyl@3.3.0, a Pterodactyl client library from npm, unchanged, against the real panel and
 * the real daemon on both databases. It sends `Content-Type: application/json` with empty bodies on
 * POST and DELETE and rejects with the bare HTTP status, so this checks both.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { testDatabaseUrls } from '../../support/postgres.ts';
import { startHarness, waitFor, type Harness } from '../support/harness.ts';
import type { ServerRow } from '../../../src/panel/db/schema.ts';
import type { BackupAttributes } from '../../../src/wire/client-api.ts';

/** The part of nodeactyl's (untyped, CommonJS) API this test drives. */
interface NodeactylClient {
  getServerDetails(id: string): Promise<{ identifier: string; feature_limits: { backups: number } }>;
  getAllServers(): Promise<{ data: Array<{ attributes: { identifier: string } }> }>;
  listServerBackups(id: string): Promise<Array<{ attributes: BackupAttributes }>>;
  createServerBackup(id: string): Promise<BackupAttributes>;
  getBackupDetails(id: string, backup: string): Promise<BackupAttributes>;
  getBackupDownload(id: string, backup: string): Promise<{ url: string }>;
  deleteBackup(id: string, backup: string): Promise<boolean>;
}
interface NodeactylApplication {
  getAllUsers(): Promise<{ data: Array<{ attributes: { email: string } }> }>;
  createUser(email: string, username: string, first: string, last: string, password?: string | null): Promise<{ object: string; attributes: { id: number; email: string } }>;
  getUserDetails(id: number): Promise<{ attributes: { email: string } }>;
  getAllServers(): Promise<{ data: Array<{ attributes: { uuid: string } }> }>;
  getServerDetails(id: number): Promise<{ suspended: boolean; feature_limits: { backups: number } }>;
  suspendServer(id: number): Promise<unknown>;
  unsuspendServer(id: number): Promise<unknown>;
}
const require = createRequire(import.meta.url);
const nodeactyl = require('nodeactyl') as {
  NodeactylClient: new (host: string, key: string) => NodeactylClient;
  NodeactylApplication: new (host: string, key: string) => NodeactylApplication;
};

for (const db of await testDatabaseUrls()) {
  describe(`nodeactyl@3.3.0 (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), env: { BACKUP_THROTTLE_PERIOD: '0' } });
      server = await h.server(h.owner.id, { backupLimit: 3 });
      const volume = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(volume, { recursive: true });
      writeFileSync(join(volume, 'server.properties'), 'motd=hello');
    });
    after(async () => {
      await h?.close();
    });

    test('list → create (empty JSON body) → view → download → delete (empty JSON body)', async () => {
      // A trailing slash on the host, as users paste it: nodeactyl adds none of its own then.
      const client = new nodeactyl.NodeactylClient(`${h.url}/`, h.ownerKey);
      const details = await client.getServerDetails(server.identifier);
      assert.equal(details.identifier, server.identifier);
      assert.equal(details.feature_limits.backups, 3);
      assert.ok((await client.getAllServers()).data.some((s) => s.attributes.identifier === server.identifier));
      assert.deepEqual(await client.listServerBackups(server.identifier), []);

      const created = await client.createServerBackup(server.identifier);
      assert.match(created.uuid, /^[0-9a-f-]{36}$/);
      assert.match(created.name, /^Backup at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.equal(created.is_successful, false);

      const done = await waitFor('backup completed', async () => {
        const b = await client.getBackupDetails(server.identifier, created.uuid);
        return b.completed_at ? b : undefined;
      });
      assert.equal(done.is_successful, true);
      assert.equal(done.checksum_type, 'sha256');
      assert.equal(done.checksum, `sha256:${done.sha256_hash}`);

      const listed = await client.listServerBackups(server.identifier);
      assert.deepEqual(listed.map((b) => b.attributes.uuid), [created.uuid]);

      const { url } = await client.getBackupDownload(server.identifier, created.uuid);
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200);
      const tar = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('latin1');
      assert.ok(tar.includes('server.properties') && tar.includes('motd=hello'));

      assert.equal(await client.deleteBackup(server.identifier, created.uuid), true);
      assert.deepEqual(await client.listServerBackups(server.identifier), []);
    });

    test('failures reject with the HTTP status nodeactyl reports', async () => {
      const client = new nodeactyl.NodeactylClient(h.url, h.ownerKey);
      await assert.rejects(client.getBackupDetails(server.identifier, '00000000-0000-4000-8000-000000000000'), (e: unknown) => e === 404);
      await assert.rejects(client.listServerBackups('zzzzzzzz'), (e: unknown) => e === 404);
      const anonymous = new nodeactyl.NodeactylClient(h.url, `ptlc_${'y'.repeat(43)}`);
      await assert.rejects(anonymous.listServerBackups(server.identifier), (e: unknown) => e === 401);
      const none = await h.server(h.owner.id, { backupLimit: 0 });
      await assert.rejects(client.createServerBackup(none.identifier), (e: unknown) => e === 400);
      await h.ctx.services.servers.setSuspended(none.id, true);
      await assert.rejects(client.listServerBackups(none.identifier), (e: unknown) => e === 409);
    });

    test('the application client lists and creates users, suspends servers', async () => {
      const admin = await h.user('nodeactyl-admin@example.com', { rootAdmin: true, type: 'application' });
      const app = new nodeactyl.NodeactylApplication(h.url, admin.key);
      const created = await app.createUser('nodeactyl-user@example.com', 'nodeactyluser', 'Node', 'Actyl');
      assert.equal(created.object, 'user');
      assert.equal(created.attributes.email, 'nodeactyl-user@example.com');
      assert.ok((await app.getAllUsers()).data.some((u) => u.attributes.email === 'nodeactyl-user@example.com'));
      assert.equal((await app.getUserDetails(created.attributes.id)).attributes.email, 'nodeactyl-user@example.com');
      assert.ok((await app.getAllServers()).data.some((s) => s.attributes.uuid === server.uuid));
      await app.suspendServer(server.id);
      assert.equal((await app.getServerDetails(server.id)).suspended, true);
      await app.unsuspendServer(server.id);
      assert.equal((await app.getServerDetails(server.id)).suspended, false);
      // A client key on the application API: 403, as nodeactyl users see from a real panel.
      const wrong = new nodeactyl.NodeactylApplication(h.url, h.ownerKey);
      await assert.rejects(wrong.getAllUsers(), (e: unknown) => e === 403);
    });
  });
}

for (const db of await testDatabaseUrls()) {
  describe(`nodeactyl@3.3.0 with the S3 driver (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3', env: { BACKUP_THROTTLE_PERIOD: '0' } });
      server = await h.server(h.owner.id, { backupLimit: 3 });
      const volume = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(volume, { recursive: true });
      writeFileSync(join(volume, 'level.dat'), 'level data '.repeat(1000));
    });
    after(async () => {
      await h?.close();
    });

    test('create → complete in S3 → presigned download → delete removes the object', async () => {
      const client = new nodeactyl.NodeactylClient(h.url, h.ownerKey);
      const created = await client.createServerBackup(server.identifier);
      const done = await waitFor('s3 backup completed', async () => {
        const b = await client.getBackupDetails(server.identifier, created.uuid);
        return b.completed_at ? b : undefined;
      });
      assert.equal(done.is_successful, true, 'the daemon uploaded through the presigned part URLs and the panel completed the upload');

      const { url } = await client.getBackupDownload(server.identifier, created.uuid);
      assert.ok(url.startsWith(`http://127.0.0.1:${h.s3!.port}/`), `a presigned S3 URL, got ${url}`);
      assert.ok(!url.toLowerCase().includes('x-amz-checksum'), 'no checksum parameter in the presigned URL');
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(bytes.length, done.bytes);
      assert.ok(gunzipSync(bytes).toString('latin1').includes('level.dat'));

      assert.equal(await client.deleteBackup(server.identifier, created.uuid), true);
      const gone = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      assert.equal(gone.status, 404, 'the object was deleted from the bucket');
      await gone.arrayBuffer();
    });
  });
}
