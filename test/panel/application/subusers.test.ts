/**
 * Subusers through the client API (upstream routes and shapes), and what their permissions allow
 * on the backup routes, on both databases.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../../support/postgres.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import type { ServerRow } from '../../../src/panel/db/schema.ts';

function assertError(res: { status: number; body: any; text: string }, status: number, code: string, detail?: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.errors[0].code, code);
  if (detail) assert.equal(res.body.errors[0].detail, detail);
}

for (const db of await testDatabaseUrls()) {
  describe(`subusers (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;
    let other: ServerRow;
    const base = () => `/api/client/servers/${server.identifier}/users`;

    /** A client key for a user the subuser route created (it has a random password). */
    async function keyFor(email: string): Promise<string> {
      const u = await h.ctx.services.users.findByEmail(email);
      assert.ok(u, `user ${email} exists`);
      return (await h.ctx.services.apiKeys.create(u.id)).key;
    }

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub' });
      server = await h.server(h.owner.id);
      other = await h.server(h.owner.id);
    });
    after(async () => {
      await h?.close();
    });

    test('owner adds a subuser by email: upstream shape, websocket.connect added, account created', async () => {
      const empty = await h.api('GET', base());
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.body, { object: 'list', data: [] });

      const res = await h.api('POST', base(), { body: { email: 'Reader@Example.com', permissions: ['backup.read'] } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.object, 'server_subuser');
      const a = res.body.attributes;
      assert.equal(a.email, 'reader@example.com');
      assert.deepEqual([...a.permissions].sort(), ['backup.read', 'websocket.connect']);
      assert.match(a.uuid, /^[0-9a-f-]{36}$/);
      assert.match(a.image, /^https:\/\/gravatar\.com\/avatar\/[0-9a-f]{32}$/);
      assert.equal(a['2fa_enabled'], false);

      const list = await h.api('GET', base());
      assert.deepEqual(list.body.data.map((s: any) => s.attributes.uuid), [a.uuid]);
      const one = await h.api('GET', `${base()}/${a.uuid}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.attributes.email, 'reader@example.com');
    });

    test('GET /api/client/permissions: the grouped catalogue, for signed-in users only', async () => {
      assertError(await h.api('GET', '/api/client/permissions', { key: null }), 401, 'AuthenticationException');
      const res = await h.api('GET', '/api/client/permissions');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.object, 'system_permissions');
      const groups = res.body.attributes.permissions;
      for (const key of ['backup.create', 'backup.read', 'backup.delete', 'backup.download', 'backup.restore', 'websocket.connect', 'user.create', 'schedule.read']) {
        const [g, k] = key.split('.');
        assert.equal(typeof groups[g!].keys[k!], 'string', `${key} listed`);
      }
      assert.ok(groups.backup.description.length > 0);
    });

    test('validation: unknown permission keys and bad emails are 422 naming the field; duplicates refused', async () => {
      const unknown = await h.api('POST', base(), { body: { email: 'x@example.com', permissions: ['backup.read', 'backup.everything'] } });
      assertError(unknown, 422, 'ValidationException');
      assert.equal(unknown.body.errors[0].meta.source_field, 'permissions.1');
      const noPerms = await h.api('POST', base(), { body: { email: 'x@example.com' } });
      assertError(noPerms, 422, 'ValidationException');
      assert.equal(noPerms.body.errors[0].meta.source_field, 'permissions');
      const badEmail = await h.api('POST', base(), { body: { email: 'not-an-email', permissions: [] } });
      assertError(badEmail, 422, 'ValidationException');
      assert.equal(badEmail.body.errors[0].meta.source_field, 'email');
      assertError(await h.api('POST', base(), { body: { email: 'reader@example.com', permissions: ['backup.read'] } }), 422, 'ValidationException',
        'A user with that email address is already assigned as a subuser for this server.');
      assertError(await h.api('POST', base(), { body: { email: 'owner@example.com', permissions: ['backup.read'] } }), 422, 'ValidationException');
      assert.equal(await h.ctx.services.users.findByEmail('x@example.com'), undefined, 'no account made for a refused request');
    });

    test('a subuser gets exactly the backup routes its permissions allow', async () => {
      const reader = await keyFor('reader@example.com');
      const backup = await h.fixtureBackup(server);
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`, { key: reader })).status, 200);
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups/${backup.uuid}`, { key: reader })).status, 200);
      assertError(await h.api('POST', `/api/client/servers/${server.identifier}/backups`, { key: reader, body: {} }), 403, 'AccessDeniedHttpException');
      assertError(await h.api('GET', `/api/client/servers/${server.identifier}/backups/${backup.uuid}/download`, { key: reader }), 403, 'AccessDeniedHttpException');
      assertError(await h.api('DELETE', `/api/client/servers/${server.identifier}/backups/${backup.uuid}`, { key: reader }), 403, 'AccessDeniedHttpException');
      // Not a subuser of the other server: it does not exist for them.
      assertError(await h.api('GET', `/api/client/servers/${other.identifier}/backups`, { key: reader }), 404, 'NotFoundHttpException');
      // Without user.read, the subuser list is closed to them.
      assertError(await h.api('GET', base(), { key: reader }), 403, 'AccessDeniedHttpException');
      const view = await h.api('GET', `/api/client/servers/${server.identifier}`, { key: reader });
      assert.deepEqual([...view.body.meta.user_permissions].sort(), ['backup.read', 'websocket.connect']);
    });

    test('updating permissions takes effect at once; the owner can always manage', async () => {
      const uuid = (await h.api('GET', base())).body.data[0].attributes.uuid;
      const upd = await h.api('POST', `${base()}/${uuid}`, { body: { permissions: ['backup.read', 'backup.download'] } });
      assert.equal(upd.status, 200, upd.text);
      assert.deepEqual([...upd.body.attributes.permissions].sort(), ['backup.download', 'backup.read', 'websocket.connect']);
      const reader = await keyFor('reader@example.com');
      const view = await h.api('GET', `/api/client/servers/${server.identifier}`, { key: reader });
      assert.ok(view.body.meta.user_permissions.includes('backup.download'));
      assertError(await h.api('POST', `${base()}/${uuid}`, { body: { permissions: ['nope'] } }), 422, 'ValidationException');
    });

    test('a manager subuser cannot grant what it lacks, nor edit itself', async () => {
      const mgr = await h.api('POST', base(), { body: { email: 'manager@example.com', permissions: ['user.create', 'user.read', 'user.update', 'user.delete', 'backup.read'] } });
      assert.equal(mgr.status, 200, mgr.text);
      const mgrKey = await keyFor('manager@example.com');
      assertError(await h.api('POST', base(), { key: mgrKey, body: { email: 'helper@example.com', permissions: ['backup.read', 'backup.delete'] } }), 403, 'HttpForbiddenException',
        'Cannot assign permissions to a subuser that your account does not actively possess.');
      const ok = await h.api('POST', base(), { key: mgrKey, body: { email: 'helper@example.com', permissions: ['backup.read'] } });
      assert.equal(ok.status, 200, ok.text);
      assertError(await h.api('POST', `${base()}/${mgr.body.attributes.uuid}`, { key: mgrKey, body: { permissions: ['backup.read', 'user.read'] } }), 403, 'HttpForbiddenException',
        'You cannot modify your own subuser account.');
      assertError(await h.api('DELETE', `${base()}/${mgr.body.attributes.uuid}`, { key: mgrKey }), 403, 'HttpForbiddenException');
      // The reader (no user.* permissions) cannot add anyone, whatever the body.
      const reader = await keyFor('reader@example.com');
      assertError(await h.api('POST', base(), { key: reader, body: { email: 'nope' } }), 403, 'AccessDeniedHttpException');
    });

    test('unknown or foreign subuser uuid is 404; suspended server is 409; delete removes access', async () => {
      const list = (await h.api('GET', base())).body.data;
      const helper = list.find((s: any) => s.attributes.email === 'helper@example.com').attributes.uuid;
      assertError(await h.api('GET', `${base()}/00000000-0000-4000-8000-000000000000`), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', `/api/client/servers/${other.identifier}/users/${helper}`), 404, 'NotFoundHttpException');

      await h.ctx.services.servers.setSuspended(server.id, true);
      assertError(await h.api('GET', base()), 409, 'ServerStateConflictException');
      await h.ctx.services.servers.setSuspended(server.id, false);

      const helperKey = await keyFor('helper@example.com');
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}/backups`, { key: helperKey })).status, 200);
      const del = await h.api('DELETE', `${base()}/${helper}`);
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
      assertError(await h.api('GET', `/api/client/servers/${server.identifier}/backups`, { key: helperKey }), 404, 'NotFoundHttpException');
      assertError(await h.api('DELETE', `${base()}/${helper}`), 404, 'NotFoundHttpException');
      assert.ok(await h.ctx.services.users.findByEmail('helper@example.com'), 'the account itself stays');

      const activity = await h.api('GET', `/api/client/servers/${server.identifier}/activity`);
      const events = activity.body.data.map((e: any) => e.attributes.event);
      for (const e of ['server:subuser.create', 'server:subuser.update', 'server:subuser.delete']) assert.ok(events.includes(e), `${e} logged`);
    });
  });
}
