/**
 * Issue 12, defects 3 and 4: a job the panel no longer wants stops within seconds, and an S3 that
 * refuses the credentials fails the backup at once, with the reason stored and shown.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from '../panel/support/harness.ts';
import { startRefusingS3, type RefusingS3 } from '../panel/support/refusing-s3.ts';

const dbs = await testDatabaseUrls();
const MiB = 1024 * 1024;

async function daemonRunning(h: Harness): Promise<number> {
  const res = await fetch(`${h.daemon!.url}/api/system`, { headers: { authorization: `Bearer ${h.node.daemon_token}` } });
  const body = (await res.json()) as { running_backups: number };
  return body.running_backups;
}

for (const db of dbs) {
  describe(`a deleted S3 backup stops its daemon job (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3', daemonWriteLimitMiB: 1, env: { BACKUP_THROTTLE_PERIOD: '0' } });
    });
    after(async () => {
      await h?.close();
    });

    test('deleting while it uploads: the daemon job is gone within 5 s', async (t) => {
      const server = await h.server(h.owner.id);
      const dir = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(dir, { recursive: true });
      // Incompressible and written at 1 MiB/s: the job runs for ~16 s unless it is stopped.
      writeFileSync(join(dir, 'world.bin'), randomBytes(16 * MiB));
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      // Part 1 uploaded (its spool file gone) and part 2 filling: the next part needs a fresh URL
      // from the panel, which is where a deleted backup used to keep the job retrying for minutes.
      const spool = (n: number) => existsSync(join(h.daemonRoot!, 'backups', `${uuid}.part${n}.tmp`));
      await waitFor('part 1 uploaded and part 2 filling', async () => spool(2) && !spool(1), 30_000);
      assert.equal(await daemonRunning(h), 1);

      const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(del.status, 204, del.text);
      const deletedAt = Date.now();
      await waitFor('the daemon job to stop', async () => (await daemonRunning(h)) === 0, 20_000);
      const took = Date.now() - deletedAt;
      t.diagnostic(`daemon job stopped ${took} ms after the delete`);
      assert.ok(took < 5_000, `the daemon job ran on for ${took} ms after the delete`);
    });
  });

  describe(`S3 refusing the credentials (${db.name})`, () => {
    let h: Harness;
    let s3: RefusingS3;
    before(async () => {
      s3 = await startRefusingS3();
      h = await startHarness({ databaseUrl: await db.url(), driver: 's3', env: { BACKUP_THROTTLE_PERIOD: '0', AWS_ENDPOINT: s3.url } });
    });
    after(async () => {
      await h?.close();
      await s3?.close();
    });

    test('fails the backup within 5 s, with the reason stored, returned and logged', async (t) => {
      const server = await h.server(h.owner.id);
      mkdirSync(join(h.daemonRoot!, 'volumes', server.uuid), { recursive: true });
      writeFileSync(join(h.daemonRoot!, 'volumes', server.uuid, 'a.txt'), 'hello');
      const started = Date.now();
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      const row = await waitFor('the backup to fail', async () => {
        const b = await h.backup(uuid);
        return b?.completed_at ? b : undefined;
      }, 40_000);
      const took = Date.now() - started;
      t.diagnostic(`failed ${took} ms after the create`);
      assert.ok(took < 5_000, `failing took ${took} ms`);
      assert.equal(row.is_successful, 0);
      assert.equal(row.failure_reason, 'S3 refused the credentials (SignatureDoesNotMatch)');
      const shown = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(shown.body.attributes.failure_reason, 'S3 refused the credentials (SignatureDoesNotMatch)');
      const events = (await h.ctx.services.activity.listForBackup(row.id)).entries.filter((e) => e.event === 'server:backup.fail');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.properties.reason, 'S3 refused the credentials (SignatureDoesNotMatch)');
      // One CreateMultipartUpload, not a retry storm.
      assert.ok(s3.requests <= 2, `S3 saw ${s3.requests} requests`);
    });
  });
}
