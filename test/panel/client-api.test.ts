/**
 * Client API over real HTTP against a real daemon: authentication, the authorisation matrix
 * (upstream BackupAuthorizationTest), delete rules (DeleteBackupTest / DeleteBackupServiceTest),
 * creation rules, lock, restore, download, list, state conflicts and validation.
 * Runs once on SQLite and once on PostgreSQL.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';

const dbs = await testDatabaseUrls();

function firstError(r: { body: any }) {
  return r.body?.errors?.[0];
}

for (const db of dbs) {
  describe(`client API (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url() });
    });
    after(async () => {
      await h?.close();
    });

    async function completedBackup(server: ServerRow, body: Record<string, unknown> = {}): Promise<string> {
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body });
      assert.equal(r.status, 200, r.text);
      const uuid = r.body.attributes.uuid as string;
      await waitFor('backup completion', async () => (await h.backup(uuid))?.completed_at);
      return uuid;
    }

    describe('authentication', () => {
      test('no credentials → 401 in the error shape', async () => {
        const r = await h.api('GET', '/api/client', { key: null });
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { errors: [{ code: 'AuthenticationException', status: '401', detail: 'Unauthenticated.' }] });
      });

      test('unknown key → 401', async () => {
        const r = await h.api('GET', '/api/client', { key: 'ptlc_AAAAAAAAAAABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' });
        assert.equal(r.status, 401);
      });

      test('application key on a client route → 403 with the upstream message', async () => {
        const { key } = await h.user('appkey@example.com', { rootAdmin: true, type: 'application' });
        assert.match(key, /^ptla_/);
        const r = await h.api('GET', '/api/client', { key });
        assert.equal(r.status, 403);
        assert.equal(firstError(r).code, 'AccessDeniedHttpException');
        assert.equal(firstError(r).detail, 'You are attempting to use an application API key on an endpoint that requires a client API key.');
      });

      test('unknown route → 404 in the error shape', async () => {
        const r = await h.api('GET', '/api/client/nope');
        assert.equal(r.status, 404);
        assert.equal(firstError(r).code, 'NotFoundHttpException');
      });

      test('session login sets cookies; CSRF header required on unsafe requests; logout ends it', async () => {
        const bad = await h.api('POST', '/auth/login', { key: null, body: { email: 'owner@example.com', password: 'wrong-password' } });
        assert.equal(bad.status, 401);
        const unknown = await h.api('POST', '/auth/login', { key: null, body: { email: 'nobody@example.com', password: 'wrong-password' } });
        assert.equal(unknown.status, 401);
        assert.equal(firstError(unknown).detail, firstError(bad).detail, 'same answer for unknown email and wrong password');

        const login = await h.api('POST', '/auth/login', { key: null, body: { email: 'OWNER@example.com', password: 'owner-password' } });
        assert.equal(login.status, 200, login.text);
        assert.deepEqual(login.body.attributes, { uuid: h.owner.uuid, email: 'owner@example.com', username: h.owner.username, root_admin: false });
        const setCookies = login.headers.getSetCookie();
        const session = setCookies.find((c) => c.startsWith('backwing_session='))!;
        const xsrf = setCookies.find((c) => c.startsWith('XSRF-TOKEN='))!;
        assert.match(session, /HttpOnly/i);
        assert.match(session, /SameSite=Lax/i);
        assert.match(session, /Path=\//);
        assert.doesNotMatch(xsrf, /HttpOnly/i);
        const sid = session.split(';')[0]!;
        const token = xsrf.split(';')[0]!.split('=')[1]!;
        const cookie = `${sid}; XSRF-TOKEN=${token}`;

        const account = await h.api('GET', '/api/client/account', { key: null, headers: { cookie } });
        assert.equal(account.status, 200);
        assert.equal(account.body.attributes.email, 'owner@example.com');

        const server = await h.server(h.owner.id);
        const noCsrf = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key: null, headers: { cookie }, body: {} });
        assert.equal(noCsrf.status, 419);
        assert.deepEqual(noCsrf.body, { errors: [{ code: 'CsrfTokenMismatch', status: '419', detail: 'CSRF token mismatch.' }] });
        const wrongCsrf = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key: null, headers: { cookie, 'x-xsrf-token': 'nope' }, body: {} });
        assert.equal(wrongCsrf.status, 419);
        const ok = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key: null, headers: { cookie, 'x-xsrf-token': token }, body: { name: 'via session' } });
        assert.equal(ok.status, 200, ok.text);
        await waitFor('session backup done', async () => (await h.backup(ok.body.attributes.uuid))?.completed_at);

        const logout = await h.api('POST', '/auth/logout', { key: null, headers: { cookie, 'x-xsrf-token': token } });
        assert.equal(logout.status, 204);
        const after = await h.api('GET', '/api/client/account', { key: null, headers: { cookie } });
        assert.equal(after.status, 401);
      });
    });

    describe('servers', () => {
      test('GET /api/client lists owned and subuser servers, paginated; GET server has limits and permissions', async () => {
        const { user, key } = await h.user('lister@example.com');
        const own = await h.server(user.id, { backupLimit: 3 });
        const other = await h.server(h.owner.id);
        await h.ctx.services.subusers.grant(other.id, user.id, ['backup.read']);
        await h.server(h.owner.id);
        const list = await h.api('GET', '/api/client?page=1&per_page=75', { key });
        assert.equal(list.status, 200);
        assert.deepEqual(list.body.data.map((s: any) => s.attributes.uuid).sort(), [own.uuid, other.uuid].sort());
        assert.equal(list.body.meta.pagination.total, 2);

        const mine = await h.api('GET', `/api/client/servers/${own.identifier}`, { key });
        assert.equal(mine.status, 200);
        assert.equal(mine.body.attributes.feature_limits.backups, 3);
        assert.equal(mine.body.attributes.status, null);
        assert.deepEqual(mine.body.meta, { is_server_owner: true, user_permissions: ['*'] });
        const byUuid = await h.api('GET', `/api/client/servers/${other.uuid}`, { key });
        assert.equal(byUuid.status, 200);
        assert.deepEqual(byUuid.body.meta, { is_server_owner: false, user_permissions: ['backup.read'] });
        const foreign = await h.api('GET', `/api/client/servers/${other.identifier}`, { key: (await h.user('stranger@example.com')).key });
        assert.equal(foreign.status, 404);
      });

      test('websocket credentials: a JWT for the node and the daemon socket URL; needs websocket.connect', async () => {
        const server = await h.server(h.owner.id);
        const r = await h.api('GET', `/api/client/servers/${server.identifier}/websocket`);
        assert.equal(r.status, 200);
        const daemonHost = new URL(h.node.url).host;
        assert.equal(r.body.data.socket, `ws://${daemonHost}/api/servers/${server.uuid}/ws`);
        const payload = JSON.parse(Buffer.from(r.body.data.token.split('.')[1], 'base64url').toString());
        assert.equal(payload.server_uuid, server.uuid);
        assert.deepEqual(payload.permissions, ['*']);
        const { user, key } = await h.user('nows@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.read']);
        assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/websocket`, { key })).status, 403);
      });
    });

    describe('authorisation matrix (upstream BackupAuthorizationTest)', () => {
      const cases: Array<{ name: string; method: string; suffix: string; ok: number }> = [
        { name: 'view', method: 'GET', suffix: '', ok: 200 },
        { name: 'download', method: 'GET', suffix: '/download', ok: 200 },
        { name: 'delete', method: 'DELETE', suffix: '', ok: 204 },
        { name: 'lock', method: 'POST', suffix: '/lock', ok: 200 },
      ];
      for (const c of cases) {
        test(`${c.name}: own 2xx, subuser without permission 403, every foreign pairing 404`, async () => {
          const u = await h.user(`matrix-${c.name}@example.com`);
          const other = await h.user(`matrix-other-${c.name}@example.com`);
          const s1 = await h.server(u.user.id);
          const s2 = await h.server(other.user.id);
          const s3 = await h.server(other.user.id);
          await h.ctx.services.subusers.grant(s2.id, u.user.id, ['websocket.connect']);
          const b1 = await h.fixtureBackup(s1);
          const b2 = await h.fixtureBackup(s2);
          const b3 = await h.fixtureBackup(s3);
          const call = (s: ServerRow, b: { uuid: string }) => h.api(c.method, `/api/client/servers/${s.identifier}/backups/${b.uuid}${c.suffix}`, { key: u.key });
          const a = await call(s1, b1);
          assert.equal(a.status, c.ok, a.text);
          const b = await call(s2, b2);
          assert.equal(b.status, 403);
          assert.deepEqual(b.body, { errors: [{ code: 'AccessDeniedHttpException', status: '403', detail: 'This action is unauthorized.' }] });
          for (const [s, bk] of [[s1, b2], [s1, b3], [s2, b3], [s3, b3]] as const) {
            const r = await call(s, bk);
            assert.equal(r.status, 404, `${s.identifier}/${bk.uuid}`);
            assert.equal(firstError(r).code, 'NotFoundHttpException');
          }
          if (c.name === 'delete') {
            // Only the authorised request reached the delete path.
            assert.ok((await h.backup(b1.uuid))!.deleted_at);
            assert.equal((await h.backup(b2.uuid))!.deleted_at, null);
            assert.equal((await h.backup(b3.uuid))!.deleted_at, null);
          }
        });
      }
    });

    describe('delete (upstream DeleteBackupTest / DeleteBackupServiceTest)', () => {
      test('subuser with only backup.create cannot delete (403)', async () => {
        const server = await h.server(h.owner.id);
        const b = await h.fixtureBackup(server);
        const { user, key } = await h.user('creator-only@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.create']);
        const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`, { key });
        assert.equal(r.status, 403);
        assert.equal((await h.backup(b.uuid))!.deleted_at, null);
      });

      test('subuser with backup.delete deletes a real backup: archive gone on the daemon, row soft-deleted, activity, second delete 404', async () => {
        const server = await h.server(h.owner.id);
        const uuid = await completedBackup(server);
        const archive = join(h.daemonRoot!, 'backups', `${uuid}.tar.gz`);
        assert.ok(existsSync(archive), 'daemon wrote the archive');
        const { user, key } = await h.user('deleter@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.delete']);
        const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`, { key });
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
        assert.equal(existsSync(archive), false, 'daemon removed the archive');
        const row = (await h.backup(uuid))!;
        assert.ok(row.deleted_at, 'row still exists, soft-deleted');
        const events = await h.ctx.services.activity.listForBackup(row.id);
        const del = events.entries.find((e) => e.event === 'server:backup.delete');
        assert.ok(del, 'delete event logged');
        assert.equal(del.actor?.uuid, user.uuid);
        assert.deepEqual(del.properties, { name: row.name, failed: false });
        const subjects = await h.ctx.repos.activity.subjectsOf([del.id]);
        assert.deepEqual(subjects.map((s) => [s.subject_type, s.subject_id]).sort(), [['backup', row.id], ['server', server.id]].sort());
        const again = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${uuid}`, { key });
        assert.equal(again.status, 404);
      });

      test('locked successful backup → 400 BackupLockedException; locked failed backup can be deleted', async () => {
        const server = await h.server(h.owner.id);
        const locked = await h.fixtureBackup(server, { locked: true });
        const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${locked.uuid}`);
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, { errors: [{ code: 'BackupLockedException', status: '400', detail: 'Cannot delete a backup that is marked as locked.' }] });
        assert.equal((await h.backup(locked.uuid))!.deleted_at, null);
        const lockedFailed = await h.fixtureBackup(server, { locked: true, successful: false });
        const ok = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${lockedFailed.uuid}`);
        assert.equal(ok.status, 204);
        assert.ok((await h.backup(lockedFailed.uuid))!.deleted_at);
      });

      test('daemon answering 404 for the archive is treated as already gone', async () => {
        const server = await h.server(h.owner.id);
        const b = await h.fixtureBackup(server); // no archive exists on the daemon
        const r = await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${b.uuid}`);
        assert.equal(r.status, 204);
        assert.ok((await h.backup(b.uuid))!.deleted_at);
      });
    });

    describe('create', () => {
      test('creates with name, ignored list and lock; daemon builds it; checksum fields filled', async () => {
        const server = await h.server(h.owner.id);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: '  Pre-Update Backup  ', ignored: '*.log\r\nnode_modules/\n\ncache/\n0', is_locked: true } });
        assert.equal(r.status, 200, r.text);
        const a = r.body.attributes;
        assert.equal(a.name, 'Pre-Update Backup');
        assert.deepEqual(a.ignored_files, ['*.log', 'node_modules/', 'cache/', '0']);
        assert.equal(a.is_locked, true);
        assert.equal(a.is_successful, false);
        assert.equal(a.completed_at, null);
        assert.equal(a.checksum, null);
        assert.equal(a.bytes, 0);
        assert.match(a.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
        await waitFor('completion', async () => (await h.backup(a.uuid))?.completed_at);
        const v = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${a.uuid}`);
        assert.equal(v.body.attributes.is_successful, true);
        assert.match(v.body.attributes.checksum, /^sha256:[0-9a-f]{64}$/);
        assert.equal(v.body.attributes.checksum_type, 'sha256');
        assert.equal(v.body.attributes.sha256_hash, v.body.attributes.checksum.slice(7));
        assert.ok(v.body.attributes.bytes > 0);
        const row = (await h.backup(a.uuid))!;
        const events = (await h.ctx.services.activity.listForBackup(row.id)).entries;
        assert.deepEqual(events.map((e) => e.event), ['server:backup.complete', 'server:backup.start'], 'newest first, start before complete');
        assert.deepEqual(events[1]!.properties, { name: 'Pre-Update Backup', locked: true });
        assert.equal(events[1]!.actor?.uuid, h.owner.uuid);
        assert.equal(events[0]!.actor, null, 'daemon-originated events have no actor');
      });

      test('default name "Backup at …"; empty JSON body accepted (Pterodactyl clients send one)', async () => {
        const server = await h.server(h.owner.id);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { rawBody: '' });
        assert.equal(r.status, 200, r.text);
        assert.match(r.body.attributes.name, /^Backup at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        await waitFor('completion', async () => (await h.backup(r.body.attributes.uuid))?.completed_at);
      });

      test('is_locked is ignored without backup.delete', async () => {
        const server = await h.server(h.owner.id);
        const { user, key } = await h.user('nolock@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.create']);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key, body: { is_locked: true } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.attributes.is_locked, false);
        await waitFor('completion', async () => (await h.backup(r.body.attributes.uuid))?.completed_at);
      });

      test('limit: at the limit → 400 TooManyBackupsException; failed backups do not count; limit 0 disables', async () => {
        const server = await h.server(h.owner.id, { backupLimit: 2 });
        // Created an hour ago, so the throttle (checked first) does not answer instead.
        const hourAgo = new Date(Date.now() - 3600_000).toISOString();
        await h.fixtureBackup(server, { createdAt: hourAgo });
        await h.fixtureBackup(server, { successful: false, createdAt: hourAgo });
        await h.fixtureBackup(server, { completed: false, createdAt: hourAgo });
        const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
        assert.equal(list.body.meta.backup_count, 2, 'failed backup not counted');
        assert.equal(list.body.meta.pagination.total, 3, 'but listed');
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, { errors: [{ code: 'TooManyBackupsException', status: '400', detail: 'Cannot create a new backup, this server has reached its limit of 2 backups.' }] });

        const zero = await h.server(h.owner.id, { backupLimit: 0 });
        const z = await h.api('POST', `/api/client/servers/${zero.identifier}/backups`, { body: {} });
        assert.equal(z.status, 400);
        assert.equal(firstError(z).detail, 'Cannot create a new backup, this server has reached its limit of 0 backups.');
      });

      test('throttle: third creation within the period → 429 with Retry-After; deleting does not give quota back', async () => {
        const server = await h.server(h.owner.id);
        const first = await completedBackup(server);
        await completedBackup(server);
        assert.equal((await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${first}`)).status, 204);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: {} });
        assert.equal(r.status, 429);
        assert.deepEqual(r.body, { errors: [{ code: 'TooManyRequestsHttpException', status: '429', detail: 'Only 2 backups may be generated within a 600 second span of time.' }] });
        const retry = Number(r.headers.get('retry-after'));
        assert.ok(retry > 590 && retry <= 600, `Retry-After ${retry}`);
      });

      test('validation: name over 191 characters → 422 naming the field; is_locked must be boolean', async () => {
        const server = await h.server(h.owner.id);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { name: 'x'.repeat(192), is_locked: 'maybe' } });
        assert.equal(r.status, 422);
        const fields = r.body.errors.map((e: any) => e.meta.source_field);
        assert.ok(fields.includes('name'), JSON.stringify(r.body));
        const nameErr = r.body.errors.find((e: any) => e.meta.source_field === 'name');
        assert.equal(nameErr.code, 'ValidationException');
        assert.equal(nameErr.status, '422');
        assert.equal(nameErr.meta.rule, 'max');
        const bad = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { body: { is_locked: 'maybe' } });
        assert.equal(bad.status, 422);
        assert.deepEqual(firstError(bad).meta, { source_field: 'is_locked', rule: 'boolean' });
      });

      test('403 for a missing permission comes before 422 for an invalid body', async () => {
        const server = await h.server(h.owner.id);
        const b = await h.fixtureBackup(server);
        const { user, key } = await h.user('readonly@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.read']);
        const c = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key, body: { name: 'x'.repeat(300) } });
        assert.equal(c.status, 403);
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { key, body: {} });
        assert.equal(r.status, 403);
      });
    });

    describe('list, view, lock, download', () => {
      test('list paginates (per_page default 20, max 50) with fractal links', async () => {
        const server = await h.server(h.owner.id, { backupLimit: 100 });
        for (let i = 0; i < 55; i++) await h.fixtureBackup(server, { name: `b${i}` });
        const d = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
        assert.equal(d.body.data.length, 20);
        assert.deepEqual({ ...d.body.meta.pagination, links: undefined }, { total: 55, count: 20, per_page: 20, current_page: 1, total_pages: 3, links: undefined });
        assert.equal(d.body.meta.pagination.links.next, `${h.url}/api/client/servers/${server.identifier}/backups?page=2`);
        assert.equal(d.body.meta.pagination.links.previous, undefined);
        const big = await h.api('GET', `/api/client/servers/${server.identifier}/backups?per_page=500&page=2`);
        assert.equal(big.body.meta.pagination.per_page, 50);
        assert.equal(big.body.data.length, 5);
        assert.equal(big.body.data[0].attributes.name, 'b50', 'oldest first');
        assert.ok(big.body.meta.pagination.links.previous);
        assert.equal(big.body.meta.backup_count, 55);
      });

      test('lock toggles and logs lock/unlock; needs backup.delete', async () => {
        const server = await h.server(h.owner.id);
        const b = await h.fixtureBackup(server);
        const l = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/lock`, { rawBody: '' });
        assert.equal(l.status, 200);
        assert.equal(l.body.attributes.is_locked, true);
        const u = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/lock`);
        assert.equal(u.body.attributes.is_locked, false);
        const events = (await h.ctx.services.activity.listForBackup(b.id)).entries.map((e) => e.event);
        assert.deepEqual(events, ['server:backup.unlock', 'server:backup.lock']);
        const { user, key } = await h.user('locker@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['backup.read', 'backup.create']);
        assert.equal((await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/lock`, { key })).status, 403);
      });

      test('download refuses in-progress and failed backups (400); wings link is a daemon JWT URL valid 15 minutes', async () => {
        const server = await h.server(h.owner.id);
        const running = await h.fixtureBackup(server, { completed: false });
        const failed = await h.fixtureBackup(server, { successful: false });
        for (const b of [running, failed]) {
          const r = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${b.uuid}/download`);
          assert.equal(r.status, 400);
          assert.equal(firstError(r).code, 'BadRequestHttpException');
        }
        const odd = await h.fixtureBackup(server, { disk: 'ftp' });
        const unknownDisk = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${odd.uuid}/download`);
        assert.equal(unknownDisk.status, 400);
        assert.equal(firstError(unknownDisk).detail, 'The backup requested references an unknown disk driver type and cannot be downloaded.');
        const ok = await h.fixtureBackup(server);
        const r = await h.api('GET', `/api/client/servers/${server.identifier}/backups/${ok.uuid}/download`);
        assert.equal(r.status, 200);
        assert.equal(r.body.object, 'signed_url');
        const url = new URL(r.body.attributes.url);
        assert.equal(`${url.protocol}//${url.host}`, h.node.url);
        assert.equal(url.pathname, '/download/backup');
        const claims = JSON.parse(Buffer.from(url.searchParams.get('token')!.split('.')[1]!, 'base64url').toString());
        assert.equal(claims.backup_uuid, ok.uuid);
        assert.equal(claims.server_uuid, server.uuid);
        assert.equal(claims.exp - claims.iat, 900);
        assert.equal(claims.iss, h.url);
        const events = (await h.ctx.services.activity.listForBackup(ok.id)).entries.map((e) => e.event);
        assert.deepEqual(events, ['server:backup.download']);
      });
    });

    describe('restore and server state', () => {
      test('restore needs truncate (422), a successful backup (400 for in-progress and failed), an empty status (400)', async () => {
        const server = await h.server(h.owner.id);
        const ok = await h.fixtureBackup(server);
        const missing = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${ok.uuid}/restore`, { body: {} });
        assert.equal(missing.status, 422);
        assert.deepEqual(missing.body, { errors: [{ code: 'ValidationException', status: '422', detail: 'The truncate field is required.', meta: { source_field: 'truncate', rule: 'required' } }] });
        const notBool = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${ok.uuid}/restore`, { body: { truncate: 'sure' } });
        assert.equal(notBool.status, 422);
        assert.equal(firstError(notBool).meta.rule, 'boolean');
        for (const b of [await h.fixtureBackup(server, { completed: false }), await h.fixtureBackup(server, { successful: false })]) {
          const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { body: { truncate: false } });
          assert.equal(r.status, 400);
          assert.equal(firstError(r).detail, 'This backup cannot be restored at this time: not completed or failed.');
        }
        await h.ctx.services.servers.setStatus(server.id, 'reinstall_failed');
        const st = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${ok.uuid}/restore`, { body: { truncate: false } });
        assert.equal(st.status, 400);
        assert.equal(firstError(st).detail, 'This server is not currently in a state that allows for a backup to be restored.');
      });

      test('real restore: status restoring_backup, every backup route 409 meanwhile, files back, status cleared', async () => {
        const server = await h.server(h.owner.id);
        const vol = join(h.daemonRoot!, 'volumes', server.uuid);
        mkdirSync(vol, { recursive: true });
        writeFileSync(join(vol, 'world.dat'), 'original contents');
        const uuid = await completedBackup(server);
        writeFileSync(join(vol, 'world.dat'), 'corrupted');
        writeFileSync(join(vol, 'extra.txt'), 'new file');
        const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${uuid}/restore`, { body: { truncate: true } });
        assert.equal(r.status, 204);
        assert.equal(r.text, '');
        // Either still restoring (409 everywhere) or already done; check 409 while the status holds.
        const status = (await h.ctx.repos.servers.findById(server.id))!.status;
        if (status === 'restoring_backup') {
          const list = await h.api('GET', `/api/client/servers/${server.identifier}/backups`);
          if ((await h.ctx.repos.servers.findById(server.id))!.status === 'restoring_backup') assert.equal(list.status, 409);
        }
        await waitFor('restore completion', async () => (await h.ctx.repos.servers.findById(server.id))!.status === null);
        const { readFileSync } = await import('node:fs');
        assert.equal(readFileSync(join(vol, 'world.dat'), 'utf8'), 'original contents');
        assert.equal(existsSync(join(vol, 'extra.txt')), false, 'truncate removed files not in the backup');
        const events = (await h.ctx.services.activity.listForServer(server.id, 1, 50)).entries.map((e) => e.event);
        assert.ok(events.includes('server:backup.restore'));
        assert.ok(events.includes('server:backup.restore-complete'));
      });

      test('409 for restoring, suspended, installing and node maintenance — before permission checks; server view still works', async () => {
        const server = await h.server(h.owner.id);
        const b = await h.fixtureBackup(server);
        const { user, key } = await h.user('state@example.com');
        await h.ctx.services.subusers.grant(server.id, user.id, ['websocket.connect']);
        const routes: Array<[string, string, unknown?]> = [
          ['GET', `/backups`], ['POST', `/backups`, {}], ['GET', `/backups/${b.uuid}`], ['GET', `/backups/${b.uuid}/download`],
          ['POST', `/backups/${b.uuid}/lock`], ['POST', `/backups/${b.uuid}/restore`, { truncate: false }], ['DELETE', `/backups/${b.uuid}`],
        ];
        const expectations: Array<[string | null, boolean, string]> = [
          ['restoring_backup', false, 'This server is currently restoring from a backup, please try again later.'],
          ['suspended', false, 'This server is currently suspended and the functionality requested is unavailable.'],
          ['installing', false, 'This server has not yet completed its installation process, please try again later.'],
          ['install_failed', false, 'This server has not yet completed its installation process, please try again later.'],
          [null, true, 'The node of this server is currently under maintenance and the functionality requested is unavailable.'],
        ];
        for (const [status, maintenance, detail] of expectations) {
          await h.ctx.services.servers.setStatus(server.id, status);
          await h.ctx.services.nodes.update(h.node.id, { maintenance });
          for (const [method, path, body] of routes) {
            for (const k of [h.ownerKey, key]) {
              const r = await h.api(method, `/api/client/servers/${server.identifier}${path}`, { key: k, body });
              assert.equal(r.status, 409, `${status} ${method} ${path}`);
              assert.deepEqual(r.body, { errors: [{ code: 'ServerStateConflictException', status: '409', detail }] });
            }
          }
          const view = await h.api('GET', `/api/client/servers/${server.identifier}`);
          assert.equal(view.status, 200);
          assert.equal(view.body.attributes.status, status);
        }
        await h.ctx.services.nodes.update(h.node.id, { maintenance: false });
        await h.ctx.services.servers.setStatus(server.id, null);
        assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`)).status, 200);
      });
    });

    test('activity endpoint lists newest first with actor', async () => {
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server);
      await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/lock`);
      await h.api('GET', `/api/client/servers/${server.identifier}/backups/${b.uuid}/download`);
      const r = await h.api('GET', `/api/client/servers/${server.identifier}/activity`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data.map((e: any) => e.attributes.event), ['server:backup.download', 'server:backup.lock']);
      assert.equal(r.body.data[0].attributes.actor.uuid, h.owner.uuid);
      assert.equal(r.body.data[0].attributes.is_api, true);
      assert.equal(r.body.data[0].attributes.ip, '127.0.0.1');
      assert.deepEqual(r.body.data[1].attributes.properties, { name: b.name });
      assert.match(r.body.data[0].attributes.timestamp, /\+00:00$/);
    });

    test('malformed JSON → 400 and a non-JSON content type → 415, both in the error shape', async () => {
      const server = await h.server(h.owner.id);
      const bad = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { rawBody: '{"name":' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errors[0].status, '400');
      const form = await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { rawBody: 'name=x', headers: { 'content-type': 'text/csv' } });
      assert.equal(form.status, 415);
      assert.equal(form.body.errors[0].status, '415');
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`)).body.meta.pagination.total, 0);
    });
  });
}
