/**
 * Hostile or nonsensical input must give the documented 4xx in the `{errors: [...]}` shape, never a
 * 500 or Fastify's own body. PostgreSQL is the strict one here (int4 ids, no NUL in text), so every
 * case runs on both databases.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';

const dbs = await testDatabaseUrls();
const HUGE = '9'.repeat(40);

function assertError(r: { status: number; body: any; text: string }, status: number, code: string, field?: string): void {
  assert.equal(r.status, status, r.text);
  const e = r.body?.errors?.[0];
  assert.ok(e, `error body expected, got ${r.text}`);
  assert.equal(e.code, code, r.text);
  assert.equal(e.status, String(status));
  if (field !== undefined) assert.equal(e.meta?.source_field, field, r.text);
}

for (const db of dbs) {
  describe(`hostile input (${db.name})`, () => {
    let h: Harness;
    let s: ServerRow;
    let appKey: string;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub', env: { BACKUP_THROTTLE_PERIOD: '0' } });
      s = await h.server(h.owner.id, { backupLimit: 5 });
      await h.fixtureBackup(s);
      appKey = (await h.user('app-admin@example.com', { rootAdmin: true, type: 'application' })).key;
    });
    after(async () => {
      await h?.close();
    });

    test('absurd page numbers give an empty page, not a 500', async () => {
      for (const path of [`/api/client/servers/${s.identifier}/backups?page=${HUGE}&per_page=${HUGE}`, `/api/client/servers/${s.identifier}/activity?page=${HUGE}`, `/api/client?page=${HUGE}`]) {
        const r = await h.api('GET', path);
        assert.equal(r.status, 200, `${path}: ${r.text}`);
        assert.deepEqual(r.body.data, []);
        assert.equal(r.body.meta.pagination.count, 0);
      }
      const backups = await h.api('GET', `/api/client/servers/${s.identifier}/backups?page=${HUGE}&per_page=${HUGE}`);
      assert.equal(backups.body.meta.pagination.per_page, 50);
      assert.equal(backups.body.meta.pagination.total, 1);
      const remote = await h.api('GET', `/api/remote/servers?page=${HUGE}`, { key: null, headers: { authorization: h.nodeAuth() } });
      assert.equal(remote.status, 200, remote.text);
      assert.deepEqual(remote.body.data, []);
      const users = await h.api('GET', `/api/application/users?page=${HUGE}`, { key: appKey });
      assert.equal(users.status, 200, users.text);
      assert.deepEqual(users.body.data, []);
    });

    test('ids no row can have are 404, not database errors', async () => {
      for (const id of [HUGE, '2147483648']) {
        assertError(await h.api('GET', `/api/application/users/${id}`, { key: appKey }), 404, 'NotFoundHttpException');
        assertError(await h.api('GET', `/api/application/servers/${id}`, { key: appKey }), 404, 'NotFoundHttpException');
        assertError(await h.api('GET', `/api/client/servers/${s.identifier}/schedules/${id}`), 404, 'NotFoundHttpException');
      }
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}/schedules/999999999999999`), 404, 'NotFoundHttpException');
    });

    test('NUL in a path segment is a 404 and in a body or query a 422 naming the field', async () => {
      assertError(await h.api('GET', '/api/client/servers/%00/backups'), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}/backups/%00`), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}/users/%00`), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', '/api/remote/servers/%00', { key: null, headers: { authorization: h.nodeAuth() } }), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', '/api/application/users/%00', { key: appKey }), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', '/api/application/users?filter[email]=a%00b', { key: appKey }), 422, 'ValidationException', 'filter[email]');
      assertError(await h.api('POST', `/api/client/servers/${s.identifier}/backups`, { body: { name: 'a\u0000b' } }), 422, 'ValidationException', 'name');
      assertError(await h.api('POST', `/api/client/servers/${s.identifier}/users`, { body: { email: 'a\u0000@example.com', permissions: [] } }), 422, 'ValidationException', 'email');
      assertError(await h.api('POST', '/auth/login', { key: null, body: { email: 'a\u0000@example.com', password: 'x' } }), 422, 'ValidationException', 'email');
      const sched = { name: 'a\u0000', minute: '*', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' };
      assertError(await h.api('POST', `/api/client/servers/${s.identifier}/schedules`, { body: sched }), 422, 'ValidationException', 'name');
      // Nothing was stored on the way.
      assert.equal((await h.ctx.repos.backups.pageForServer(s.id, { page: 1, perPage: 50 })).total, 1);
    });

    test('a daemon report the backup row cannot hold is a 422 and leaves the backup in progress', async () => {
      const node = { authorization: h.nodeAuth() };
      for (const [body, field] of [
        [{ successful: true, checksum: 'ab', checksum_type: 'sha256', size: 1e300 }, 'size'],
        [{ successful: true, checksum: 'ab', checksum_type: 'sha256', size: 2 ** 63 }, 'size'],
        [{ successful: true, checksum: 'a'.repeat(300), checksum_type: 'sha256', size: 5 }, 'checksum'],
      ] as const) {
        const b = await h.fixtureBackup(s, { completed: false });
        assertError(await h.api('POST', `/api/remote/backups/${b.uuid}`, { key: null, headers: node, body }), 422, 'ValidationException', field);
        assert.equal((await h.backup(b.uuid))!.completed_at, null);
      }
      const ok = await h.fixtureBackup(s, { completed: false });
      const r = await h.api('POST', `/api/remote/backups/${ok.uuid}`, { key: null, headers: node, body: { successful: true, checksum: 'c'.repeat(64), checksum_type: 'sha256', size: Number.MAX_SAFE_INTEGER } });
      assert.equal(r.status, 204, r.text);
      assert.equal(Number((await h.backup(ok.uuid))!.bytes), Number.MAX_SAFE_INTEGER);
    });

    test('values longer than their column are a 422 naming the field', async () => {
      const long = 'a'.repeat(300);
      assertError(await h.api('PATCH', `/api/application/servers/${s.id}/details`, { key: appKey, body: { name: long } }), 422, 'ValidationException', 'name');
      const created = await h.api('POST', '/api/application/servers', { key: appKey, body: { name: long, user: h.owner.id, node: h.node.id } });
      assertError(created, 422, 'ValidationException', 'name');
      assert.equal(created.body.errors[0].meta.rule, 'max', 'too long, not "required"');
      assertError(await h.api('POST', '/api/application/nodes', { key: appKey, body: { name: long, url: 'http://127.0.0.1:9' } }), 422, 'ValidationException', 'name');
      await assert.rejects(h.ctx.services.nodes.update(h.node.id, { name: '  ' }), (e: any) => e.status === 422 && e.meta?.rule === 'required');
      const minute = `${'1,'.repeat(150)}1`;
      const r = await h.api('POST', `/api/client/servers/${s.identifier}/schedules`, { body: { name: 'n', minute, hour: '*', day_of_month: '*', month: '*', day_of_week: '*' } });
      assertError(r, 422, 'ValidationException', 'minute');
      assert.equal((await h.ctx.repos.servers.findById(s.id))!.name, 'srv');
    });

    test('router refusals (over-long segment, broken escape) answer in the error shape', async () => {
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}/backups/${'x'.repeat(5000)}`), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', '/api/client/servers/%zz/backups'), 400, 'BadRequestHttpException');
    });

    test('integers beyond a 32-bit column are a 422 naming the field', async () => {
      const base = { name: 'big', user: h.owner.id, node: h.node.id };
      assertError(await h.api('POST', '/api/application/servers', { key: appKey, body: { ...base, feature_limits: { backups: 1e300 } } }), 422, 'ValidationException', 'feature_limits.backups');
      assertError(await h.api('POST', '/api/application/servers', { key: appKey, body: { ...base, node: 99_999_999_999_999 } }), 422, 'ValidationException', 'node');
      assertError(await h.api('PATCH', `/api/application/servers/${s.id}/build`, { key: appKey, body: { backup_limit: 2_147_483_648 } }), 422, 'ValidationException', 'backup_limit');
      assertError(await h.api('PATCH', `/api/application/servers/${s.id}/details`, { key: appKey, body: { user: 99_999_999_999 } }), 422, 'ValidationException', 'user');
      assert.equal((await h.ctx.repos.servers.findById(s.id))?.backup_limit, 5);
      await assert.rejects(h.ctx.services.servers.update(s.id, { backupLimit: 2 ** 31 }), (e: any) => e.status === 422 && e.meta?.source_field === 'backup_limit');

      const sch = await h.api('POST', `/api/client/servers/${s.identifier}/schedules`, { body: { name: 'n', minute: '*', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' } });
      assert.equal(sch.status, 200, sch.text);
      const r = await h.api('POST', `/api/client/servers/${s.identifier}/schedules/${sch.body.attributes.id}/tasks`, { body: { action: 'backup', time_offset: 0, sequence_id: 1e12 } });
      assertError(r, 422, 'ValidationException', 'sequence_id');
    });
  });
}
