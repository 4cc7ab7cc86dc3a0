/**
 * jspteroapi@1.11.3, a Pterodactyl client library from npm, unchanged, against the real panel and
 * the real daemon on both databases: its whole backup surface (list, create with name/ignored/lock,
 * view, download, lock toggle, restore, delete), its error handling, and its application client.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client, Application, JSPteroAPIError } from 'jspteroapi';
import { testDatabaseUrls } from '../../support/postgres.ts';
import { startHarness, waitFor, type Harness } from '../support/harness.ts';
import type { ServerRow } from '../../../src/panel/db/schema.ts';

async function rejectsWith(p: Promise<unknown>, status: number, detail?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof JSPteroAPIError, `expected JSPteroAPIError, got ${String(err)}`);
    assert.equal(err.HTML_STATUS, status);
    assert.ok(err.ERRORS.length > 0, 'the error body was JSON with errors[].detail');
    if (detail) assert.equal(err.ERRORS[0], detail);
    return true;
  });
}

for (const db of await testDatabaseUrls()) {
  describe(`jspteroapi@1.11.3 (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;
    let volume: string;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), env: { BACKUP_THROTTLE_PERIOD: '0' } });
      server = await h.server(h.owner.id, { backupLimit: 5 });
      volume = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(join(volume, 'logs'), { recursive: true });
      writeFileSync(join(volume, 'world.dat'), 'the world v1');
      writeFileSync(join(volume, 'logs', 'latest.log'), 'noise');
    });
    after(async () => {
      await h?.close();
    });

    test('the constructor self-test (GET /api/client?page=1&per_page=75) passes', async () => {
      const client = new Client(h.url, h.ownerKey); // fast = false: fires testAPI() itself
      assert.equal(await client.testAPI(false), true);
      const servers = await client.getAllServers();
      assert.ok(servers.some((s) => s.attributes.identifier === server.identifier));
      const bad = new Client(h.url, `ptlc_${'x'.repeat(43)}`, undefined, true);
      assert.equal(await bad.testAPI(false), false);
    });

    test('backup lifecycle: create (name, ignored, locked) → complete → download → lock rules → restore → delete', async () => {
      const client = new Client(h.url, h.ownerKey, undefined, true);
      assert.deepEqual(await client.getAllBackups(server.identifier), []);

      const created = await client.createBackup(server.identifier, 'before update', ['logs'], true);
      assert.equal(created.name, 'before update');
      assert.equal(created.is_locked, true);
      assert.equal(created.is_successful, false);
      assert.equal(created.completed_at, null);
      // jspteroapi joins the list with a space; the panel splits on newlines exactly as upstream does.
      assert.deepEqual(created.ignored_files, ['logs']);

      const done = await waitFor('backup completed', async () => {
        const b = await client.getBackupInfo(server.identifier, created.uuid);
        return b.completed_at ? b : undefined;
      });
      assert.equal(done.is_successful, true);
      assert.match(String(done.checksum), /^sha256:[0-9a-f]{64}$/);
      assert.ok(done.bytes > 0);

      const listed = await client.getAllBackups(server.identifier);
      assert.deepEqual(listed.map((b) => b.attributes.uuid), [created.uuid]);

      const url = await client.getBackupDownloadLink(server.identifier, created.uuid);
      const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200);
      const archive = Buffer.from(await res.arrayBuffer());
      assert.equal(archive.length, done.bytes);
      const tar = gunzipSync(archive).toString('latin1');
      assert.ok(tar.includes('world.dat'), 'the archive holds the world');
      assert.ok(!tar.includes('latest.log'), 'the ignored directory is not in it');

      await rejectsWith(client.deleteBackup(server.identifier, created.uuid), 400, 'Cannot delete a backup that is marked as locked.');
      const unlocked = await client.toggleLockBackup(server.identifier, created.uuid);
      assert.equal(unlocked.is_locked, false);

      writeFileSync(join(volume, 'world.dat'), 'the world v2, broken');
      writeFileSync(join(volume, 'new-file.txt'), 'added after the backup');
      assert.equal(await client.restoreBackup(server.identifier, created.uuid, true), 'Sucessfully restored backup');
      await waitFor('restore finished', async () => (await h.ctx.repos.servers.findById(server.id))?.status === null);
      assert.equal(readFileSync(join(volume, 'world.dat'), 'utf8'), 'the world v1');
      assert.equal(existsSync(join(volume, 'new-file.txt')), false, 'truncate removed files newer than the backup');

      assert.equal(await client.deleteBackup(server.identifier, created.uuid), 'Backup successfully deleted!');
      assert.deepEqual(await client.getAllBackups(server.identifier), []);
      await rejectsWith(client.getBackupInfo(server.identifier, created.uuid), 404);
    });

    test('errors reach the library as JSON: permissions, validation, unknown server', async () => {
      const { user, key } = await h.user('jspt-sub@example.com');
      await h.ctx.services.subusers.grant(server.id, user.id, ['backup.read']);
      const sub = new Client(h.url, key, undefined, true);
      assert.deepEqual(await sub.getAllBackups(server.identifier), []);
      await rejectsWith(sub.createBackup(server.identifier), 403, 'This action is unauthorized.');
      const owner = new Client(h.url, h.ownerKey, undefined, true);
      await rejectsWith(owner.getAllBackups('zzzzzzzz'), 404);
      const limited = await h.server(h.owner.id, { backupLimit: 0 });
      await rejectsWith(owner.createBackup(limited.identifier), 400, 'Cannot create a new backup, this server has reached its limit of 0 backups.');
    });

    test('subusers through the library: permission catalogue, add, view, update, remove', async () => {
      const client = new Client(h.url, h.ownerKey, undefined, true);
      const catalogue = (await client.getAllPermissions()) as unknown as { permissions: Record<string, { description: string; keys: Record<string, string> }> };
      assert.deepEqual(Object.keys(catalogue.permissions.backup!.keys).sort(), ['create', 'delete', 'download', 'read', 'restore']);
      assert.match(catalogue.permissions.backup!.keys.restore!, /Danger/);

      // jspteroapi's permission type predates backup.*; the panel takes upstream's full key set.
      const perms = ['backup.read', 'backup.create'] as unknown as Parameters<typeof client.createSubUser>[2];
      const added = await client.createSubUser(server.identifier, 'jspt-helper@example.com', perms);
      assert.equal(added.email, 'jspt-helper@example.com');
      assert.deepEqual([...added.permissions].sort(), ['backup.create', 'backup.read', 'websocket.connect']);
      const all = await client.getAllSubUsers(server.identifier);
      assert.ok(all.some((u) => u.attributes.uuid === added.uuid));
      assert.equal((await client.getSubUserInfo(server.identifier, added.uuid)).email, 'jspt-helper@example.com');

      const updated = await client.updateSubUserPermissions(server.identifier, added.uuid, ['backup.read'] as unknown as typeof perms);
      assert.deepEqual([...updated.permissions].sort(), ['backup.read', 'websocket.connect']);
      await rejectsWith(client.createSubUser(server.identifier, 'jspt-bad@example.com', ['backup.everything'] as unknown as typeof perms), 422);

      assert.equal(await client.deleteSubUser(server.identifier, added.uuid), 'Successfuly deleted SubUser!');
      await rejectsWith(client.getSubUserInfo(server.identifier, added.uuid), 404);
    });

    test('the application client provisions users and servers', async () => {
      const admin = await h.user('jspt-admin@example.com', { rootAdmin: true, type: 'application' });
      const app = new Application(h.url, admin.key); // fast = false: its own testAPI runs too
      assert.equal(await app.testAPI(false), true);
      const created = await app.createUser('jsptuser', 'J', 'S', 'jspt-user@example.com');
      assert.equal(created.email, 'jspt-user@example.com');
      assert.equal(created.username, 'jsptuser');
      const users = await app.getAllUsers();
      assert.ok(users.some((u) => u.attributes.email === 'jspt-user@example.com'));
      const found = await app.getAllUsers({ servers: false }, { filterBy: 'email', filter: 'jspt-user@example.com' });
      assert.deepEqual(found.map((u) => u.attributes.id), [created.id]);
      const info = await app.getUserInfo(created.id);
      assert.equal(info.uuid, created.uuid);

      const servers = await app.getAllServers();
      assert.ok(servers.some((s) => s.attributes.uuid === server.uuid));
      assert.equal(await app.suspendServer(server.id), 'Successfully suspended!');
      assert.equal((await app.getServerInfo(server.id)).suspended, true);
      assert.equal(await app.unSuspendServer(server.id), 'Successfully unsuspended!');
      assert.equal((await app.getServerInfo(server.id)).suspended, false);

      const doomed = await h.server(created.id);
      assert.equal(await app.deleteServer(doomed.id, true), 'Successfully deleted!');
      assert.equal(await h.ctx.repos.servers.findById(doomed.id), undefined);
      assert.equal(await app.deleteUser(created.id), 'Successfully deleted!');
    });
  });
}

