/**
 * End-to-end flows through the real daemon, for both storage drivers: create → the daemon builds
 * the archive → completed with a checksum → the download link yields exactly that archive →
 * restore brings the files back.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  for (const driver of ['wings', 's3'] as const) {
    describe(`full flow, ${driver} driver (${db.name})`, () => {
      let h: Harness;
      before(async () => {
        h = await startHarness({ databaseUrl: await db.url(), driver });
      });
      after(async () => {
        await h?.close();
      });

      test('create → completed with checksum → download matches → restore', async () => {
        const server = await h.server(h.owner.id, { backupLimit: 3 });
        const vol = join(h.daemonRoot!, 'volumes', server.uuid);
        mkdirSync(join(vol, 'world'), { recursive: true });
        writeFileSync(join(vol, 'world', 'level.dat'), 'level data v1');
        writeFileSync(join(vol, 'server.log'), 'noise');
        writeFileSync(join(vol, 'config.yml'), 'motd: hello');

        const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'flow', ignored: '*.log' } });
        assert.equal(created.status, 200, created.text);
        const uuid = created.body.attributes.uuid as string;
        const row = await waitFor('completion', async () => {
          const b = await h.backup(uuid);
          return b?.completed_at ? b : null;
        }, 60_000);
        assert.equal(row.is_successful, 1, 'daemon reported success');
        assert.equal(row.disk, driver);

        const view = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${uuid}`);
        const attrs = view.body.attributes;
        assert.equal(attrs.is_successful, true);
        assert.match(attrs.checksum, /^sha256:[0-9a-f]{64}$/);
        assert.ok(attrs.bytes > 0);

        const dl = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${uuid}/download`);
        assert.equal(dl.status, 200);
        const url = dl.body.attributes.url as string;
        if (driver === 's3') {
          assert.ok(url.startsWith(`http://127.0.0.1:${h.s3!.port}/`), 'presigned S3 URL');
          assert.equal(new URL(url).searchParams.get('X-Amz-Expires'), '900', 'valid 15 minutes');
        } else {
          assert.ok(url.startsWith(`${h.node.url}/download/backup?token=`));
        }
        const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
        assert.equal(res.status, 200);
        // Saved under the backup's name, as the CLI does (the S3 emulator ignores the override, so
        // the presigned URL itself is checked there).
        const saveAs = `flow-${uuid.slice(0, 8)}.tar.gz`;
        if (driver === 's3') assert.match(String(new URL(url).searchParams.get('response-content-disposition')), new RegExp(`filename="${saveAs}"`));
        else assert.equal(res.headers.get('content-disposition'), `attachment; filename="${saveAs}"`);
        const archive = Buffer.from(await res.arrayBuffer());
        assert.equal(archive.length, attrs.bytes);
        assert.equal(`sha256:${createHash('sha256').update(archive).digest('hex')}`, attrs.checksum);
        const tar = gunzipSync(archive).toString('latin1');
        assert.ok(tar.includes('level data v1'));
        assert.ok(!tar.includes('noise'), 'ignored file left out');

        writeFileSync(join(vol, 'world', 'level.dat'), 'griefed');
        const restore = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/restore`, { body: { truncate: false } });
        assert.equal(restore.status, 204, restore.text);
        await waitFor('restore completion', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null, 60_000);
        assert.equal(readFileSync(join(vol, 'world', 'level.dat'), 'utf8'), 'level data v1');
        assert.ok(existsSync(join(vol, 'server.log')), 'truncate false keeps other files');
        const events = (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries.map((e) => e.event);
        for (const e of ['server:backup.start', 'server:backup.complete', 'server:backup.download', 'server:backup.restore', 'server:backup.restore-complete']) {
          assert.ok(events.includes(e), `${e} in ${events.join(',')}`);
        }

        const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`);
        assert.equal(del.status, 204);
        if (driver === 's3') {
          const gone = await fetch(url, { signal: AbortSignal.timeout(20_000) });
          assert.equal(gone.status, 404, 'object removed from the bucket');
          await gone.arrayBuffer().catch(() => {});
        } else {
          assert.equal(existsSync(join(h.daemonRoot!, 'backups', `${uuid}.tar.gz`)), false, 'archive removed from the daemon');
        }
      });
    });
  }
}
