/**
 * The panel's side of restic backups (SQLite and PostgreSQL): a node's repository set through the
 * application API, its generated password stored sealed and sent only to the daemon with each
 * restic job; the report's snapshot fields shown as backwing extensions in the client API; a
 * delete forgets the snapshot and counts it toward the next prune. A restic destination: its
 * snapshots in its own repository, used again for restore and browse after a reassignment.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateAppKey, parseAppKey, SecretBox } from '../../src/core/secret-box.ts';
import { TEST_APP_KEY_BYTES } from '../support/app-key.ts';
import { KeyRotationService, SEALED_COLUMNS } from '../../src/panel/services/key-rotation.service.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { writeBrowseTree } from './support/browse-tree.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';
import { ResticMaintenanceService } from '../../src/panel/services/restic-maintenance.service.ts';
import { createPanelMetrics } from '../../src/panel/http/metrics.plugin.ts';

const dbs = await testDatabaseUrls();
process.env.APP_KEY ??= generateAppKey();

for (const db of dbs) {
  describe(`restic backups in the panel (${db.name})`, () => {
    let h: Harness;
    let adminKey: string;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: { BACKUP_THROTTLE_PERIOD: '0', NOTIFY_WEBHOOK_URLS: 'https://hooks.example.com/restic' } });
      adminKey = (await h.user('restic-admin@example.com', { rootAdmin: true, type: 'application' })).key;
    });
    after(async () => h?.close());

    test('repository via the application API; the password is generated, sealed, sent to the daemon only, never shown', async () => {
      const path = `/api/application/nodes/${h.node.id}/restic`;
      assert.equal((await h.api('GET', path, { key: adminKey })).status, 404);
      const bad = await h.api('PUT', path, { key: adminKey, body: { repository: 'relative/repo' } });
      assert.equal(bad.status, 422, bad.text);
      const put = await h.api('PUT', path, { key: adminKey, body: { repository: '/srv/restic-repo' } });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.attributes.repository, '/srv/restic-repo');
      assert.equal(put.body.attributes.has_password, true);
      assert.equal('password' in put.body.attributes, false);
      const row = (await h.ctx.repos.nodeRestic.find(h.node.id))!;
      assert.match(row.password, /^bw1:/, 'stored sealed');
      const password = h.ctx.deps.secrets.open(row.password);
      assert.ok(password.length >= 40);
      // Changing other settings keeps the password.
      await h.api('PUT', path, { key: adminKey, body: { enabled: true } });
      assert.equal((await h.ctx.repos.nodeRestic.find(h.node.id))!.password, row.password);
      // A replacement node pointed at the same repository gets its password (so it can restore the
      // dead node's snapshots: test/daemon/restic.test.ts restores across nodes); a new location a new one.
      const replacement = await h.ctx.services.nodes.create({ name: 'replacement', url: 'http://127.0.0.1:9' });
      await h.api('PUT', `/api/application/nodes/${replacement.id}/restic`, { key: adminKey, body: { repository: '/srv/restic-repo', enabled: false } });
      assert.equal((await h.ctx.services.restic.repoForBackup(replacement.id)).password, password);
      const elsewhere = await h.ctx.services.nodes.create({ name: 'elsewhere', url: 'http://127.0.0.1:9' });
      await h.api('PUT', `/api/application/nodes/${elsewhere.id}/restic`, { key: adminKey, body: { repository: '/srv/another-repo', enabled: false } });
      assert.notEqual((await h.ctx.services.restic.repoForBackup(elsewhere.id)).password, password);

      const server = await h.server(h.owner.id, { backupLimit: 5 });
      h.stub!.reset();
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'restic one' } });
      assert.equal(created.status, 200, created.text);
      assert.equal(JSON.stringify(created.body).includes(password), false);
      const call = h.stub!.calls.find((c) => c.method === 'POST' && c.url.endsWith('/backup'))!;
      const body = call.body as { adapter: string; restic: { repository: string; password: string } };
      assert.equal(body.adapter, 'restic');
      assert.deepEqual(body.restic, { repository: '/srv/restic-repo', password, s3: null });
      const uuid = created.body.attributes.uuid as string;
      assert.equal((await h.backup(uuid))!.disk, 'restic');

      // The daemon's report: the snapshot fields are stored and shown (backwing extensions).
      const report = await h.api('POST', `/api/remote/backups/${uuid}`, {
        key: null, headers: { authorization: h.nodeAuth() },
        body: { successful: true, checksum: 'abcd1234', checksum_type: 'restic-snapshot', size: 4096, parts: null, snapshot_id: 'abcd1234', bytes_added: 4096, repository_size: 1_000_000 },
      });
      assert.equal(report.status, 204, report.text);
      const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
      const attrs = list.body.data.find((d: { attributes: { uuid: string } }) => d.attributes.uuid === uuid).attributes;
      assert.equal(attrs.bytes_added, 4096);
      assert.equal(attrs.repository_size, 1_000_000);
      assert.equal((await h.backup(uuid))!.snapshot_id, 'abcd1234');
      assert.equal(JSON.stringify(list.body).includes(password), false);

      // Locked: rotation and retention (automatic deletes) never forget it; the daemon hears nothing.
      const locked = (await h.ctx.repos.backups.setLockIfLive((await h.backup(uuid))!.id, true, new Date().toISOString()));
      assert.equal(locked, true);
      h.stub!.reset();
      await assert.rejects(h.ctx.services.backups.delete({ server, node: h.node }, (await h.backup(uuid))!, null), (err: { code?: string }) => err.code === 'BackupLockedException');
      assert.equal(h.stub!.calls.filter((c) => c.method === 'DELETE').length, 0);
      await h.ctx.repos.backups.setLockIfLive((await h.backup(uuid))!.id, false, new Date().toISOString());

      // Restore and delete carry the repository; delete counts toward the batched prune.
      h.stub!.reset();
      const restore = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/restore`, { body: { truncate: true } });
      assert.equal(restore.status, 204, restore.text);
      assert.deepEqual((h.stub!.calls.find((c) => c.url.endsWith('/restore'))!.body as { restic: unknown }).restic, { repository: '/srv/restic-repo', password, s3: null });
      await h.ctx.repos.servers.transitionStatus(server.id, 'restoring_backup', null, new Date().toISOString());
      h.stub!.reset();
      const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`);
      assert.equal(del.status, 204, del.text);
      const delCall = h.stub!.calls.find((c) => c.method === 'DELETE')!;
      assert.deepEqual(delCall.body, { adapter: 'restic', restic: { repository: '/srv/restic-repo', password, s3: null } });
      assert.equal((await h.ctx.repos.nodeRestic.find(h.node.id))!.forgotten_since_prune, 1);
    });

    test('upkeep: the forgotten snapshot is pruned (batched, off the hot path); a failed check is stored, counted and notified; nothing is due twice', async () => {
      const maintenance = new ResticMaintenanceService(h.ctx.deps);
      // The stub daemon records the calls; the answers (a clean prune, a damaged repository) are
      // given per action here, since the stub answers by path only.
      h.stub!.reset();
      h.stub!.respond('POST', /\/api\/backwing\/restic\/maintenance$/, 200, { ok: true, message: null, duration_seconds: 1 });
      let checks = 0;
      const original = h.ctx.deps.daemon.resticMaintenance.bind(h.ctx.deps.daemon);
      h.ctx.deps.daemon.resticMaintenance = async (node, body) => {
        if (body.action === 'check') checks++;
        await original(node, body).catch(() => undefined);
        return body.action === 'prune' ? { ok: true, message: null, duration_seconds: 1 } : { ok: false, message: 'the restic repository is damaged (run a repository check)', duration_seconds: 1 };
      };
      try {
        const outcomes = await maintenance.runOnce();
        assert.deepEqual(outcomes.map((o) => [o.action, o.ok]), [['prune', true], ['check', false]]);
        const calls = h.stub!.calls.filter((c) => c.url === '/api/backwing/restic/maintenance');
        assert.equal(calls.length, 2);
        assert.equal((calls[1]!.body as { read_data_subset: string }).read_data_subset, '5%');
        const row = (await h.ctx.repos.nodeRestic.find(h.node.id))!;
        assert.equal(row.forgotten_since_prune, 0);
        assert.equal(row.last_check_ok, 0);
        assert.match(row.last_check_message!, /damaged/);
        const view = await h.api('GET', `/api/application/nodes/${h.node.id}/restic`, { key: adminKey });
        assert.equal(view.body.attributes.last_check_ok, false);
        const queued = await h.ctx.db.selectFrom('notification_deliveries' as never).selectAll().where('event' as never, '=', 'restic.check_failed' as never).execute() as Array<{ target: string; payload: string }>;
        assert.equal(queued.length, 1);
        assert.equal(queued[0]!.target, 'https://hooks.example.com/restic');
        assert.match(JSON.parse(queued[0]!.payload).backup.failure_reason, /damaged/);
        // Nothing is due again right away: no second prune (none forgotten), no second check.
        assert.deepEqual(await maintenance.runOnce(), []);
        assert.equal(checks, 1);
      } finally {
        h.ctx.deps.daemon.resticMaintenance = original;
      }
    });

    test('upkeep of an s3: restic destination: one repository, so one row whichever node forgot, pruned once through the node named', async () => {
      const made = await h.api('POST', '/api/application/destinations', { key: adminKey, body: { name: 'restic-s3-upkeep', kind: 'restic', repository: 's3:https://s3.example.com/bucket/restic', access_key_id: 'AKIAUPKEEP', secret_access_key: 'upkeep-secret', skip_test: true } });
      assert.equal(made.status, 201, made.text);
      const dest = (await h.ctx.repos.destinations.findById(made.body.attributes.id))!;
      const other = await h.ctx.services.nodes.create({ name: 'second-writer', url: 'http://127.0.0.1:9' });
      await h.ctx.services.restic.destinationForgotten(dest, h.node.id);
      await h.ctx.services.restic.destinationForgotten(dest, other.id);
      const upkeep = await h.api('GET', `/api/application/destinations/${dest.id}/restic-upkeep`, { key: adminKey });
      assert.equal(upkeep.status, 200, upkeep.text);
      assert.deepEqual(upkeep.body.data.map((d: { attributes: { node_id: number; shared_repository: boolean; forgotten_since_prune: number } }) => [d.attributes.node_id, d.attributes.shared_repository, d.attributes.forgotten_since_prune]), [[h.node.id, true, 2]]);
      h.stub!.reset();
      h.stub!.respond('POST', /\/api\/backwing\/restic\/maintenance$/, 200, { ok: true, message: null, duration_seconds: 1 });
      const outcomes = (await new ResticMaintenanceService(h.ctx.deps).runOnce()).filter((o) => o.destinationId === dest.id);
      assert.deepEqual(outcomes.map((o) => [o.action, o.ok, o.nodeId]), [['prune', true, h.node.id], ['check', true, h.node.id]]);
      const sent = h.stub!.calls.filter((c) => c.url === '/api/backwing/restic/maintenance').map((c) => c.body as { action: string; restic: { repository: string; s3: { access_key_id: string } | null } });
      assert.deepEqual(sent.filter((b) => b.restic.repository === dest.restic_repository).map((b) => [b.action, b.restic.s3?.access_key_id]), [['prune', 'AKIAUPKEEP'], ['check', 'AKIAUPKEEP']]);
      assert.equal((await h.api('GET', `/api/application/destinations/${dest.id}/restic-upkeep`, { key: adminKey })).body.data[0].attributes.forgotten_since_prune, 0);
      assert.deepEqual((await h.api('GET', '/api/application/destinations/1/restic-upkeep', { key: adminKey })).body.data, [], 'not a restic destination: nothing');
      assert.equal((await h.api('GET', '/api/application/destinations/nope/restic-upkeep', { key: adminKey })).status, 404);
    });
  });

  describe(`browse and restore parts of a restic backup through the client API, real daemon and restic (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), env: { BACKUP_THROTTLE_PERIOD: '0', RESTIC_PRUNE_AFTER_FORGOTTEN: '2', NOTIFY_WEBHOOK_URLS: 'https://hooks.example.com/restic-dest' } });
      const admin = (await h.user('restic-browse-admin@example.com', { rootAdmin: true, type: 'application' })).key;
      const put = await h.api('PUT', `/api/application/nodes/${h.node.id}/restic`, { key: admin, body: { repository: join(h.daemonRoot!, 'restic-repo') } });
      assert.equal(put.status, 200, put.text);
    });
    after(async () => h?.close());
    /** A backup of the server through the client API, once the daemon reported it. */
    const backupNow = async (server: { identifier: string }, name: string) => {
      const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name } });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      await waitFor(`${name} done`, async () => (await h.backup(uuid))?.completed_at ?? null, 60_000);
      return (await h.backup(uuid))!;
    };

    test('files, search, compare, one-file and folder links, restore of selected paths with keep_newer: as for a tar.gz backup', async () => {
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      const region = writeBrowseTree(vol);
      const make = async (name: string) => {
        const created = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name } });
        assert.equal(created.status, 200, created.text);
        const uuid = created.body.attributes.uuid as string;
        await waitFor(`${name} done`, async () => (await h.backup(uuid))?.completed_at ?? null, 60_000);
        const row = (await h.backup(uuid))!;
        assert.deepEqual([row.disk, row.is_successful], ['restic', 1]);
        return uuid;
      };
      const uuid = await make('restic browse');
      const base = `/api/client/servers/${server.identifier}/backups/${uuid}`;

      const root = await h.api('GET', `${base}/files`);
      assert.equal(root.status, 200, root.text);
      assert.deepEqual(root.body.data.map((d: { attributes: { name: string } }) => d.attributes.name), ['plugins', 'world', 'server.properties']);
      const search = await h.api('GET', `${base}/files/search?pattern=*.mca`);
      assert.equal(search.body.data[0].attributes.size, region.length);
      const missing = await h.api('GET', `${base}/files?path=nether`);
      assert.equal(missing.status, 404, missing.text);
      assert.equal((await h.api('GET', `${base}/files?path=../etc`)).status, 422);

      const link = await h.api('GET', `${base}/files/download?path=world/region/r.0.0.mca`);
      assert.equal(link.status, 200, link.text);
      assert.ok(Buffer.from(await (await fetch(link.body.attributes.url)).arrayBuffer()).equals(region), 'byte for byte, through restic dump');
      const folder = await h.api('GET', `${base}/files/download?path=plugins`);
      const tgz = Buffer.from(await (await fetch(folder.body.attributes.url)).arrayBuffer());
      assert.deepEqual(execFileSync('tar', ['-tf', '-'], { input: gunzipSync(tgz) }).toString().trim().split('\n'), ['plugins/a.yml', 'plugins/b.yml']);
      // The sealed repository never reaches the client: the link carries it for the node only.
      const password = h.ctx.deps.secrets.open((await h.ctx.repos.nodeRestic.find(h.node.id))!.password);
      assert.equal(JSON.stringify([root.body, link.body]).includes(password), false);

      // Restore of selected paths: a.yml damaged long ago comes back, b.yml edited later stays.
      writeFileSync(join(vol, 'plugins/a.yml'), 'a: broken\n');
      utimesSync(join(vol, 'plugins/a.yml'), new Date('2001-01-01'), new Date('2001-01-01'));
      writeFileSync(join(vol, 'plugins/b.yml'), 'b: edited later\n');
      const later = new Date(Date.now() + 3600_000);
      utimesSync(join(vol, 'plugins/b.yml'), later, later);
      writeFileSync(join(vol, 'server.properties'), 'motd=changed\n');
      const bad = await h.api('POST', `${base}/restore`, { body: { truncate: false, paths: ['plugins', 'gone.txt'] } });
      assert.equal(bad.status, 404, bad.text);
      assert.equal((await h.ctx.repos.servers.findById(server.id))!.status, null, 'a refused restore leaves the server usable');
      const res = await h.api('POST', `${base}/restore`, { body: { truncate: true, paths: ['plugins'], keep_newer: true } });
      assert.equal(res.status, 204, res.text);
      await waitFor('server released', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null, 60_000);
      assert.equal(readFileSync(join(vol, 'plugins/a.yml'), 'utf8'), 'a: 1\n');
      assert.equal(readFileSync(join(vol, 'plugins/b.yml'), 'utf8'), 'b: edited later\n', 'newer on the server: kept');
      assert.equal(readFileSync(join(vol, 'server.properties'), 'utf8'), 'motd=changed\n', 'not selected: untouched, never truncated');
      const completed = await waitFor('restore completed entry', async () => (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries.find((e) => e.event === 'server:backup.restore-complete'));
      assert.ok(completed);

      // Compare two restic backups.
      writeFileSync(join(vol, 'new.txt'), 'new\n');
      const uuid2 = await make('restic after');
      const cmp = await h.api('GET', `${base}/compare?with=${uuid2}`);
      assert.equal(cmp.status, 200, cmp.text);
      const changes = Object.fromEntries(cmp.body.attributes.entries.map((e: { path: string; change: string }) => [e.path, e.change]));
      assert.deepEqual(changes, { 'new.txt': 'added', 'plugins/b.yml': 'changed', 'server.properties': 'changed' });
    });

    test('a restic destination: snapshots in its repository; reassigned to local the next backup is a tar.gz and the restic one still restores; the password is never shown; key rotation re-seals it', async () => {
      const admin = (await h.user('restic-dest-admin@example.com', { rootAdmin: true, type: 'application' })).key;
      const repo = join(h.daemonRoot!, 'restic-destination-repo');
      const refused = await h.api('POST', '/api/application/destinations', { key: admin, body: { name: 'snapshots', kind: 'restic' } });
      assert.equal(refused.status, 422, refused.text);
      const made = await h.api('POST', '/api/application/destinations', { key: admin, body: { name: 'snapshots', kind: 'restic', repository: repo } });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual([made.body.attributes.kind, made.body.attributes.repository, made.body.attributes.has_password], ['restic', repo, true]);
      const destId = made.body.attributes.id as number;
      const sealed = (await h.ctx.repos.destinations.findById(destId))!.restic_password!;
      assert.match(sealed, /^bw1:/, 'stored sealed');
      const password = h.ctx.deps.secrets.open(sealed);
      assert.notEqual(password, h.ctx.deps.secrets.open((await h.ctx.repos.nodeRestic.find(h.node.id))!.password), 'a new repository, a new password');
      const tested = await h.api('POST', `/api/application/destinations/${destId}/test`, { key: admin });
      assert.equal(tested.body.attributes.ok, true);
      assert.match(tested.body.attributes.message, /first backup/);

      // Assigned to the server: it wins over the node's own restic repository.
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      writeFileSync(join(vol, 'world.dat'), 'first world\n');
      assert.equal((await h.api('PUT', `/api/application/servers/${server.id}/destination`, { key: admin, body: { destination: 'snapshots' } })).status, 204);
      const make = (name: string) => backupNow(server, name);
      const snap = await make('into the destination');
      assert.deepEqual([snap.disk, snap.is_successful, snap.destination_id], ['restic', 1, destId]);
      const snapshots = (r: string, pw: string) => JSON.parse(execFileSync('restic', ['-r', r, 'snapshots', '--json', '--tag', `backup:${snap.uuid}`], { env: { ...process.env, RESTIC_PASSWORD: pw } }).toString()) as Array<{ short_id: string }>;
      assert.equal(snapshots(repo, password).length, 1, 'the snapshot is in the destination\'s repository');
      const nodeRow = (await h.ctx.repos.nodeRestic.find(h.node.id))!;
      assert.equal(snapshots(nodeRow.repository, h.ctx.deps.secrets.open(nodeRow.password)).length, 0, 'not in the node\'s');

      const moved = await h.api('PATCH', `/api/application/destinations/${destId}`, { key: admin, body: { repository: '/elsewhere' } });
      assert.equal(moved.status, 409, 'a destination holding snapshots keeps its repository');

      // Reassigned to a local destination (explicit, so the node's restic setting does not apply): tar.gz.
      const local = (await h.ctx.repos.destinations.list()).find((d) => d.kind === 'local')!;
      assert.equal((await h.api('PUT', `/api/application/servers/${server.id}/destination`, { key: admin, body: { destination: local.name } })).status, 204);
      const tgz = await make('back to tar.gz');
      assert.deepEqual([tgz.disk, tgz.is_successful, tgz.destination_id], ['wings', 1, local.id]);
      const toRestic = await h.api('PATCH', `/api/application/destinations/${local.id}`, { key: admin, body: { kind: 'restic', repository: '/elsewhere' } });
      assert.equal(toRestic.status, 409, 'a destination holding archives does not become a repository');

      // The restic backup still restores from its own repository after the reassignment.
      writeFileSync(join(vol, 'world.dat'), 'damaged\n');
      const res = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${snap.uuid}/restore`, { body: { truncate: true } });
      assert.equal(res.status, 204, res.text);
      await waitFor('server released', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null, 60_000);
      assert.equal(readFileSync(join(vol, 'world.dat'), 'utf8'), 'first world\n');
      const files = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${snap.uuid}/files`);
      assert.equal(files.status, 200, files.text);

      // No API shows the password.
      const shown = await Promise.all([
        h.api('GET', '/api/application/destinations', { key: admin }),
        h.api('GET', `/api/application/destinations/${destId}`, { key: admin }),
        h.api('GET', `/api/client/servers/${server.identifier}/backups`),
        h.api('GET', `/api/client/servers/${server.identifier}/backups/${snap.uuid}`),
      ]);
      for (const r of [made, tested, files, ...shown]) {
        assert.equal(r.status < 300, true, r.text);
        assert.equal(r.text.includes(password) || r.text.includes(sealed), false, 'neither the password nor its seal');
      }

      // Key rotation re-seals it (only this column here: the running panel keeps the old key).
      const oldKey = TEST_APP_KEY_BYTES;
      const newKey = parseAppKey(generateAppKey());
      const column = SEALED_COLUMNS.filter((c) => c.name === 'destinations.restic_password');
      assert.equal(column.length, 1, 'key rotation covers destinations.restic_password');
      const report = await new KeyRotationService({ ...h.ctx.deps, secrets: new SecretBox([newKey, oldKey]) }, column).rotate();
      assert.equal(report.resealed, 1);
      const resealed = (await h.ctx.repos.destinations.findById(destId))!.restic_password!;
      assert.notEqual(resealed, sealed);
      assert.equal(new SecretBox([newKey]).open(resealed), password);
      await new KeyRotationService({ ...h.ctx.deps, secrets: new SecretBox([oldKey, newKey]) }, column).rotate();
      assert.equal(h.ctx.deps.secrets.open((await h.ctx.repos.destinations.findById(destId))!.restic_password!), password);

      // Deleting it forgets the snapshot in the destination's repository, not in the node's.
      const forgottenBefore = (await h.ctx.repos.nodeRestic.find(h.node.id))!.forgotten_since_prune;
      const del = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${snap.uuid}`);
      assert.equal(del.status, 204, del.text);
      assert.equal(snapshots(repo, password).length, 0);
      assert.equal((await h.ctx.repos.nodeRestic.find(h.node.id))!.forgotten_since_prune, forgottenBefore, 'not counted toward the node repository\'s prune');
    });

    test('restic destination upkeep: enough deletes prune its repository for real; a scheduled check is kept per (destination, node); a damaged repository fails the check with a reason, a notification and a metric', async () => {
      const admin = (await h.user('restic-upkeep-admin@example.com', { rootAdmin: true, type: 'application' })).key;
      const repo = join(h.daemonRoot!, 'restic-upkeep-repo');
      const made = await h.api('POST', '/api/application/destinations', { key: admin, body: { name: 'upkept', kind: 'restic', repository: repo } });
      assert.equal(made.status, 201, made.text);
      const destId = made.body.attributes.id as number;
      const password = h.ctx.deps.secrets.open((await h.ctx.repos.destinations.findById(destId))!.restic_password!);
      const server = await h.server(h.owner.id, { backupLimit: 5 });
      const vol = join(h.daemonRoot!, 'volumes', server.uuid);
      mkdirSync(vol, { recursive: true });
      assert.equal((await h.api('PUT', `/api/application/servers/${server.id}/destination`, { key: admin, body: { destination: 'upkept' } })).status, 204);
      const make = async (name: string) => {
        const row = await backupNow(server, name);
        assert.deepEqual([row.disk, row.is_successful, row.destination_id], ['restic', 1, destId]);
        return row.uuid;
      };
      const restic = (...args: string[]) => execFileSync('restic', ['-r', repo, ...args], { env: { ...process.env, RESTIC_PASSWORD: password } }).toString();
      const dataBytes = () => Number(execFileSync('du', ['-sb', join(repo, 'data')]).toString().split('\t')[0]);
      // Two backups with 3 MiB each of their own (incompressible) data, then a small one that stays.
      writeFileSync(join(vol, 'big.bin'), randomBytes(3 << 20));
      const first = await make('upkeep one');
      writeFileSync(join(vol, 'big.bin'), randomBytes(3 << 20));
      const second = await make('upkeep two');
      rmSync(join(vol, 'big.bin'));
      writeFileSync(join(vol, 'small.txt'), 'stays\n');
      await make('upkeep three');
      assert.equal(JSON.parse(restic('snapshots', '--json')).length, 3);
      const before = dataBytes();
      assert.ok(before > 6 << 20, `both big files are in the repository (${before} bytes)`);

      const metrics = createPanelMetrics();
      const maintenance = new ResticMaintenanceService({ ...h.ctx.deps, metrics });
      const mine = (outcomes: Awaited<ReturnType<ResticMaintenanceService['runOnce']>>) => outcomes.filter((o) => o.destinationId === destId).map((o) => [o.action, o.ok, o.nodeId]);
      // One delete: forgotten and counted, not pruned yet (batched: RESTIC_PRUNE_AFTER_FORGOTTEN=2 here).
      assert.equal((await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${first}`)).status, 204);
      // As if pruned recently (a never-pruned repository is due at once, as a node's is).
      await h.ctx.db.updateTable('destination_restic_upkeep').set({ last_prune_at: new Date().toISOString() }).where('destination_id', '=', destId).execute();
      const firstPass = await maintenance.runOnce();
      assert.deepEqual(mine(firstPass), [['check', true, h.node.id]], 'the scheduled check runs; no prune for one forgotten snapshot');
      assert.equal(dataBytes(), before, 'forget alone frees nothing');
      assert.equal((await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${second}`)).status, 204);
      let upkeep = await h.api('GET', `/api/application/destinations/${destId}/restic-upkeep`, { key: admin });
      assert.equal(upkeep.status, 200, upkeep.text);
      assert.equal(upkeep.body.data[0].attributes.forgotten_since_prune, 2);
      assert.deepEqual(mine(await maintenance.runOnce()), [['prune', true, h.node.id]], 'the second forget makes the prune due; the check is not due again');
      assert.equal(JSON.parse(restic('snapshots', '--json')).length, 1);
      const after = dataBytes();
      assert.ok(before - after > 5 << 20, `the big files' packs are gone (${before} -> ${after} bytes)`);

      upkeep = await h.api('GET', `/api/application/destinations/${destId}/restic-upkeep`, { key: admin });
      assert.equal(upkeep.body.data.length, 1, 'a path repository: one entry per node holding backups');
      const entry = upkeep.body.data[0].attributes;
      assert.deepEqual([entry.node_id, entry.shared_repository, entry.forgotten_since_prune, entry.last_check_ok, entry.last_check_message], [h.node.id, false, 0, true, null]);
      assert.ok(entry.last_prune_at && entry.last_check_at);

      // Damaged: a pack file of the remaining snapshot is gone. The next scheduled check fails with a reason.
      const packDir = readdirSync(join(repo, 'data')).map((d) => join(repo, 'data', d)).find((d) => readdirSync(d).length > 0)!;
      rmSync(join(packDir, readdirSync(packDir)[0]!));
      await h.ctx.db.updateTable('destination_restic_upkeep').set({ last_check_at: '2000-01-01T00:00:00.000Z' }).where('destination_id', '=', destId).execute();
      assert.deepEqual(mine(await maintenance.runOnce()), [['check', false, h.node.id]]);
      const failed = (await h.api('GET', `/api/application/destinations/${destId}/restic-upkeep`, { key: admin })).body.data[0].attributes;
      assert.equal(failed.last_check_ok, false);
      assert.ok(failed.last_check_message && failed.last_check_message.length > 0, 'a reason');
      const queued = await h.ctx.db.selectFrom('notification_deliveries' as never).selectAll().where('event' as never, '=', 'restic.check_failed' as never).execute() as Array<{ target: string; payload: string }>;
      assert.equal(queued.length, 1);
      assert.equal(queued[0]!.target, 'https://hooks.example.com/restic-dest');
      const payload = JSON.parse(queued[0]!.payload);
      assert.match(payload.backup.name, /restic destination upkept/);
      assert.equal(payload.backup.failure_reason, failed.last_check_message);
      const scraped = await metrics.registry.metrics();
      assert.ok(scraped.includes(`backwing_panel_restic_checks_total{outcome="failed"} 1`));
      assert.ok(scraped.includes(`backwing_panel_restic_destination_check_ok{destination="${made.body.attributes.uuid}",node="${h.node.uuid}"} 0`), 'the metric beside the node ones');
    });
  });
}
