/**
 * Browsing a backup through the client API (backwing extension, issue 14), with the real daemon:
 * folder listing and search (backup.download), one-time links to one file or a folder, restore of
 * selected paths (backup.restore) with the restoring state and an activity entry, bad paths.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { testDatabaseUrls } from '../support/postgres.ts';
import { writeBrowseTree } from './support/browse-tree.ts';
import { BUCKET, startHarness, waitFor, type Harness } from './support/harness.ts';
import { fauxqsClient } from '../support/fauxqs-client.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) for (const driver of ['wings', 's3'] as const) {
  describe(`browse a backup (${db.name}, ${driver})`, () => {
    let h: Harness;
    let s3: S3Client | undefined;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver });
      if (driver === 's3') {
        s3 = fauxqsClient(h.s3!.port);
      }
    });
    after(async () => {
      s3?.destroy();
      await h?.close();
    });

    test('list, search, download one file or a folder, restore selected paths; permissions and bad paths', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      const region = writeBrowseTree(vol);
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'browse me' } });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      await waitFor('backup done', async () => (await h.backup(uuid))?.completed_at ?? null, 60_000);
      const shown = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(shown.body.attributes.is_successful, true, shown.text);
      assert.equal(shown.body.attributes.has_index, true, 'the daemon wrote an index in the same pass');
      const indexKey = `${server.uuid}/${uuid}.idx`;
      if (s3) {
        const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: indexKey }));
        assert.equal((await obj.Body!.transformToByteArray()).subarray(0, 4).toString(), [66, 87, 73, 88].toString(), 'the index object (BWIX) sits beside the archive');
      } else {
        assert.ok(existsSync(join(h.daemonRoot!, 'backups', `${uuid}.idx`)));
      }
      const base = `/api/client/servers/${server.identifier}/backups/${uuid}`;

      const root = await h.api('GET', `${base}/files`);
      assert.equal(root.status, 200, root.text);
      assert.equal(root.body.meta.status, 'ready');
      assert.deepEqual(root.body.data.map((d: { attributes: { name: string } }) => d.attributes.name), ['plugins', 'world', 'server.properties']);
      assert.equal(root.body.data[0].object, 'backup_file');
      const page2 = await h.api('GET', `${base}/files?path=plugins&per_page=1&page=2`);
      assert.equal(page2.body.data[0].attributes.path, 'plugins/b.yml');
      assert.equal(page2.body.meta.pagination.total, 2);
      const search = await h.api('GET', `${base}/files/search?pattern=*.mca`);
      assert.equal(search.body.data[0].attributes.size, region.length);

      // Bad input: the daemon's answers, passed on.
      const missing = await h.api('GET', `${base}/files?path=nether`);
      assert.equal(missing.status, 404, missing.text);
      assert.match(missing.body.errors[0].detail, /"nether" is not in this backup/);
      assert.equal((await h.api('GET', `${base}/files?path=../etc`)).status, 422);
      assert.equal((await h.api('GET', `${base}/files/download?path=/etc/passwd`)).status, 422);
      const noFile = await h.api('GET', `${base}/files/download?path=plugins/zzz.yml`);
      assert.equal(noFile.status, 404);
      assert.match(noFile.body.errors[0].detail, /"plugins\/zzz.yml" is not in this backup/);

      // backup.download is what browsing needs; backup.read alone is not enough.
      const reader = await h.user('reader@example.com');
      await h.ctx.services.subusers.grant(server.id, reader.user.id, ['backup.read', 'backup.restore']);
      assert.equal((await h.api('GET', `${base}/files`, { key: reader.key })).status, 403);
      assert.equal((await h.api('GET', `${base}/files/download?path=plugins`, { key: reader.key })).status, 403);

      const link = await h.api('GET', `${base}/files/download?path=world/region/r.0.0.mca`);
      assert.equal(link.status, 200, link.text);
      assert.match(link.body.attributes.url, /\/download\/backup\/file\?token=/);
      const got = Buffer.from(await (await fetch(link.body.attributes.url)).arrayBuffer());
      assert.ok(got.equals(region), 'the file comes back byte for byte');
      const folder = await h.api('GET', `${base}/files/download?path=plugins`);
      const tgz = Buffer.from(await (await fetch(folder.body.attributes.url)).arrayBuffer());
      assert.deepEqual(execFileSync('tar', ['-tf', '-'], { input: gunzipSync(tgz) }).toString().trim().split('\n'), ['plugins/', 'plugins/a.yml', 'plugins/b.yml']);

      // Restore of one path: the rest of the server stays as it is.
      writeFileSync(join(vol, 'plugins/a.yml'), 'a: broken\n');
      const past = new Date(Date.now() - 86400_000);
      utimesSync(join(vol, 'plugins/a.yml'), past, past);
      writeFileSync(join(vol, 'server.properties'), 'motd=changed\n');
      const bad = await h.api('POST', `${base}/restore`, { body: { truncate: false, paths: ['plugins/a.yml', 'gone.txt'] } });
      assert.equal(bad.status, 404, bad.text);
      assert.match(bad.body.errors[0].detail, /"gone.txt" is not in this backup/);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null, 'a refused restore leaves the server usable');
      const res = await h.api('POST', `${base}/restore`, { key: reader.key, body: { truncate: true, paths: ['plugins/a.yml'], keep_newer: true } });
      assert.equal(res.status, 204, res.text);
      await waitFor('server released', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null);
      assert.equal(readFileSync(join(vol, 'plugins/a.yml'), 'utf8'), 'a: 1\n');
      assert.equal(readFileSync(join(vol, 'server.properties'), 'utf8'), 'motd=changed\n', 'not truncated, not touched');
      const entries = (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries;
      const restore = entries.find((e) => e.event === 'server:backup.restore');
      assert.deepEqual(restore?.properties.paths, ['plugins/a.yml']);
      const completed = await waitFor('restore completed entry', async () => (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries.find((e) => e.event === 'server:backup.restore-complete'));
      assert.ok(completed);
      const download = entries.find((e) => e.event === 'server:backup.download' && e.properties.path === 'plugins');
      assert.ok(download, 'a file link is logged with its path');

      // Compare: a second backup after adding, removing and changing files.
      writeFileSync(join(vol, 'new.txt'), 'new\n');
      rmSync(join(vol, 'plugins/b.yml'));
      const second = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'after' } });
      const uuid2 = second.body.attributes.uuid as string;
      await waitFor('second backup done', async () => (await h.backup(uuid2))?.completed_at ?? null, 60_000);
      const cmp = await h.api('GET', `${base}/compare?with=${uuid2}`);
      assert.equal(cmp.status, 200, cmp.text);
      assert.equal(cmp.body.object, 'backup_comparison');
      const changes = Object.fromEntries(cmp.body.attributes.entries.map((e: { path: string; change: string }) => [e.path, e.change]));
      assert.deepEqual(changes, { 'new.txt': 'added', 'plugins/b.yml': 'removed', 'server.properties': 'changed' });
      assert.deepEqual(cmp.body.attributes.counts, { added: 1, removed: 1, changed: 1 });
      assert.equal((await h.api('GET', `${base}/compare?with=${uuid2}`, { key: reader.key })).status, 403);
      assert.equal((await h.api('GET', `${base}/compare?with=00000000-0000-4000-8000-000000000000`)).status, 422);

      // Deleted with the backup.
      assert.equal((await h.api('DELETE', base)).status, 204);
      if (s3) await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: indexKey })));
      else assert.ok(!existsSync(join(h.daemonRoot!, 'backups', `${uuid}.idx`)));
    });
  });
}
