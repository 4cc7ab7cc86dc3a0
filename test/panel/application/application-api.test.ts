/**
 * The application API over real HTTP, with the real daemon behind the panel, on both databases.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { testDatabaseUrls } from '../../support/postgres.ts';
import { parseDaemonConfig } from '../../../src/daemon/config.ts';
import { startHarness, type Harness } from '../support/harness.ts';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function assertError(res: { status: number; body: any }, status: number, code: string, detail?: RegExp | string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errors[0].code, code);
  assert.equal(res.body.errors[0].status, String(status));
  if (typeof detail === 'string') assert.equal(res.body.errors[0].detail, detail);
  else if (detail) assert.match(res.body.errors[0].detail, detail);
}

for (const db of await testDatabaseUrls()) {
  describe(`application API (${db.name})`, () => {
    let h: Harness;
    let adminKey: string;
    let adminId: number;

    before(async () => {
      h = await startHarness({ databaseUrl: await db.url() });
      const admin = await h.user('root@example.com', { rootAdmin: true, type: 'application' });
      adminKey = admin.key;
      adminId = admin.user.id;
    });
    after(async () => {
      await h?.close();
    });

    test('authentication: application keys of root admins only', async () => {
      assertError(await h.api('GET', '/api/application/users', { key: null }), 401, 'AuthenticationException');
      assertError(await h.api('GET', '/api/application/users', { key: 'ptla_notarealkeyatallnotarealkeyatallnotarealkey' }), 401, 'AuthenticationException');
      assertError(await h.api('GET', '/api/application/users', { key: h.ownerKey }), 403, 'AccessDeniedHttpException',
        'You are attempting to use a client API key on an endpoint that requires an application API key.');
      const nonAdmin = await h.user('plain-app@example.com', { type: 'application' });
      assertError(await h.api('GET', '/api/application/users', { key: nonAdmin.key }), 403, 'AccessDeniedHttpException', 'This action is unauthorized.');
      // ...and the application key is refused on the client API, as upstream.
      assertError(await h.api('GET', '/api/client', { key: adminKey }), 403, 'AccessDeniedHttpException',
        'You are attempting to use an application API key on an endpoint that requires a client API key.');
    });

    test('users: create, duplicate, list with pagination, filter, view, delete', async () => {
      const created = await h.api('POST', '/api/application/users', { key: adminKey, body: { email: 'New.User@Example.com', username: 'newuser', first_name: 'N', last_name: 'U', password: 'a good password' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.object, 'user');
      const attrs = created.body.attributes;
      assert.equal(attrs.email, 'new.user@example.com');
      assert.equal(attrs.username, 'newuser');
      assert.equal(attrs.root_admin, false);
      assert.equal(typeof attrs.id, 'number');
      // The password works: the new user can sign in to the web UI.
      const login = await h.api('POST', '/auth/login', { key: null, body: { email: 'new.user@example.com', password: 'a good password' } });
      assert.equal(login.status, 200, login.text);

      const noPassword = await h.api('POST', '/api/application/users', { key: adminKey, body: { email: 'nopw@example.com', root_admin: true } });
      assert.equal(noPassword.status, 201, noPassword.text);
      assert.equal(noPassword.body.attributes.root_admin, true);

      const dup = await h.api('POST', '/api/application/users', { key: adminKey, body: { email: 'new.user@example.com', password: 'a good password' } });
      assertError(dup, 422, 'ValidationException', 'The email has already been taken.');
      assert.equal(dup.body.errors[0].meta.source_field, 'email');
      const missing = await h.api('POST', '/api/application/users', { key: adminKey, body: {} });
      assertError(missing, 422, 'ValidationException');
      assert.equal(missing.body.errors[0].meta.source_field, 'email');

      const page1 = await h.api('GET', '/api/application/users?per_page=2', { key: adminKey });
      assert.equal(page1.status, 200);
      assert.equal(page1.body.object, 'list');
      assert.equal(page1.body.data.length, 2);
      const total = page1.body.meta.pagination.total;
      assert.ok(total >= 4, `total ${total}`);
      assert.equal(page1.body.meta.pagination.per_page, 2);
      assert.equal(page1.body.meta.pagination.total_pages, Math.ceil(total / 2));
      assert.equal(page1.body.meta.pagination.links.next, `${h.url}/api/application/users?page=2`);

      const filtered = await h.api('GET', `/api/application/users?filter[email]=${encodeURIComponent('new.user@example.com')}`, { key: adminKey });
      assert.deepEqual(filtered.body.data.map((u: any) => u.attributes.id), [attrs.id]);

      const byId = await h.api('GET', `/api/application/users/${attrs.id}`, { key: adminKey });
      assert.equal(byId.body.attributes.uuid, attrs.uuid);
      const byUuid = await h.api('GET', `/api/application/users/${attrs.uuid}`, { key: adminKey });
      assert.equal(byUuid.body.attributes.id, attrs.id);
      assertError(await h.api('GET', '/api/application/users/999999', { key: adminKey }), 404, 'NotFoundHttpException');

      const del = await h.api('DELETE', `/api/application/users/${attrs.id}`, { key: adminKey });
      assert.equal(del.status, 204);
      assertError(await h.api('GET', `/api/application/users/${attrs.id}`, { key: adminKey }), 404, 'NotFoundHttpException');
      // A user who owns servers cannot be deleted (their servers would be orphaned).
      const withServer = await h.user('has-server@example.com');
      await h.server(withServer.user.id);
      assertError(await h.api('DELETE', `/api/application/users/${withServer.user.id}`, { key: adminKey }), 409, 'ConflictHttpException');
      assert.equal((await h.api('GET', `/api/application/users/${withServer.user.id}`, { key: adminKey })).status, 200);
      void adminId;
    });

    test('nodes: create returns the token once; url or upstream fqdn/scheme/daemon_listen', async () => {
      const created = await h.api('POST', '/api/application/nodes', { key: adminKey, body: { name: 'app-node', url: 'http://127.0.0.1:18081' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.object, 'node');
      assert.equal(created.body.attributes.fqdn, '127.0.0.1');
      assert.equal(created.body.attributes.daemon_listen, 18081);
      assert.equal(created.body.attributes.scheme, 'http');
      const row = await h.ctx.repos.nodes.findById(created.body.attributes.id);
      assert.equal(created.body.meta.token, row!.daemon_token);
      assert.equal(created.body.meta.token_id, row!.daemon_token_id);

      const upstreamShape = await h.api('POST', '/api/application/nodes', { key: adminKey, body: { name: 'fqdn-node', fqdn: 'node.example.test', scheme: 'https', daemon_listen: 8443 } });
      assert.equal(upstreamShape.status, 201, upstreamShape.text);
      assert.equal(upstreamShape.body.attributes.url, 'https://node.example.test:8443');

      const view = await h.api('GET', `/api/application/nodes/${created.body.attributes.id}`, { key: adminKey });
      assert.equal(view.status, 200);
      assert.equal(view.body.attributes.uuid, created.body.attributes.uuid);
      assert.equal(view.body.meta, undefined, 'the token is only shown at creation');
      assert.ok(!view.text.includes(row!.daemon_token));

      const list = await h.api('GET', '/api/application/nodes', { key: adminKey });
      assert.ok(list.body.data.some((n: any) => n.attributes.name === 'fqdn-node'));
      assert.ok(!list.text.includes(row!.daemon_token), 'lists never carry tokens');

      // The configuration document (upstream's Wings JSON) is a config backwing's daemon accepts as is.
      const conf = await h.api('GET', `/api/application/nodes/${created.body.attributes.id}/configuration`, { key: adminKey });
      assert.equal(conf.status, 200, conf.text);
      assert.equal(conf.body.token, row!.daemon_token);
      const parsed = parseDaemonConfig(conf.text, 'configuration');
      assert.equal(parsed.uuid, created.body.attributes.uuid);
      assert.equal(parsed.tokenId, row!.daemon_token_id);
      assert.deepEqual(parsed.api, { host: '127.0.0.1', port: 18081 });
      assert.equal(parsed.remote, h.url);
      assertError(await h.api('GET', `/api/application/nodes/${created.body.attributes.id}/configuration`, { key: h.ownerKey }), 403, 'AccessDeniedHttpException');

      assertError(await h.api('POST', '/api/application/nodes', { key: adminKey, body: { url: 'http://x:1' } }), 422, 'ValidationException');
      assertError(await h.api('POST', '/api/application/nodes', { key: adminKey, body: { name: 'x', url: 'ftp://x' } }), 422, 'ValidationException');
    });

    test('servers: create tells the daemon; build limit, suspend, delete show through the client API', async () => {
      const created = await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'Survival', user: h.owner.id, node: h.node.id, feature_limits: { backups: 3 } } });
      assert.equal(created.status, 201, created.text);
      const s = created.body.attributes;
      assert.equal(created.body.object, 'server');
      assert.equal(s.name, 'Survival');
      assert.equal(s.user, h.owner.id);
      assert.equal(s.node, h.node.id);
      assert.equal(s.feature_limits.backups, 3);
      assert.equal(s.identifier, s.uuid.slice(0, 8));
      assert.ok(existsSync(join(h.daemonRoot!, 'volumes', s.uuid)), 'the daemon learned the server and made its directory');

      const client = await h.api('GET', `/api/client/servers/${s.identifier}`);
      assert.equal(client.status, 200, client.text);
      assert.equal(client.body.attributes.feature_limits.backups, 3);

      const build = await h.api('PATCH', `/api/application/servers/${s.id}/build`, { key: adminKey, body: { feature_limits: { backups: 5 } } });
      assert.equal(build.status, 200, build.text);
      assert.equal(build.body.attributes.feature_limits.backups, 5);
      assert.equal((await h.api('GET', `/api/client/servers/${s.identifier}`)).body.attributes.feature_limits.backups, 5);
      assertError(await h.api('PATCH', `/api/application/servers/${s.id}/build`, { key: adminKey, body: { feature_limits: { backups: -1 } } }), 422, 'ValidationException');

      const details = await h.api('PATCH', `/api/application/servers/${s.uuid}/details`, { key: adminKey, body: { name: 'Creative' } });
      assert.equal(details.body.attributes.name, 'Creative');

      assert.equal((await h.api('POST', `/api/application/servers/${s.id}/suspend`, { key: adminKey })).status, 204);
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}/backups`), 409, 'ServerStateConflictException');
      assert.equal((await h.api('GET', `/api/application/servers/${s.identifier}`, { key: adminKey })).body.attributes.suspended, true);
      assert.equal((await h.api('POST', `/api/application/servers/${s.id}/unsuspend`, { key: adminKey })).status, 204);
      assert.equal((await h.api('GET', `/api/client/servers/${s.identifier}/backups`)).status, 200);

      const list = await h.api('GET', '/api/application/servers', { key: adminKey });
      assert.ok(list.body.data.some((x: any) => x.attributes.uuid === s.uuid));

      assert.equal((await h.api('DELETE', `/api/application/servers/${s.id}`, { key: adminKey })).status, 204);
      assertError(await h.api('GET', `/api/client/servers/${s.identifier}`), 404, 'NotFoundHttpException');
      assertError(await h.api('GET', `/api/application/servers/${s.id}`, { key: adminKey }), 404, 'NotFoundHttpException');
    });

    test('servers: an identifier made only of digits is found as an identifier (a numeric id still wins)', async () => {
      // Identifiers are the uuid's first 8 hex characters, so about 1 server in 43 has only digits.
      const uuid = `${'1'.repeat(8)}-${crypto.randomUUID().slice(9)}`;
      const row = await h.ctx.repos.servers.insert({ uuid, identifier: uuid.slice(0, 8), name: 'digits', owner_id: h.owner.id, node_id: h.node.id, backup_limit: 1, at: new Date().toISOString() });
      const byIdentifier = await h.api('GET', `/api/application/servers/${row.identifier}`, { key: adminKey });
      assert.equal(byIdentifier.status, 200, byIdentifier.text);
      assert.equal(byIdentifier.body.attributes.uuid, uuid);
      const byId = await h.api('GET', `/api/application/servers/${row.id}`, { key: adminKey });
      assert.equal(byId.body.attributes.uuid, uuid);
    });

    test('servers: bad owner/node are 422; an unreachable daemon leaves no server behind', async () => {
      const noOwner = await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'x', user: 999999, node: h.node.id } });
      assertError(noOwner, 422, 'ValidationException');
      assert.equal(noOwner.body.errors[0].meta.source_field, 'owner_id');
      assertError(await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'x', user: h.owner.id, node: 999999 } }), 422, 'ValidationException');
      assertError(await h.api('POST', '/api/application/servers', { key: adminKey, body: { user: h.owner.id, node: h.node.id } }), 422, 'ValidationException');
      const wrongType = await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'x', user: { id: 1 }, node: h.node.id } });
      assertError(wrongType, 422, 'ValidationException');
      assert.equal(wrongType.body.errors[0].meta.source_field, 'user');
      const badLimit = await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'x', user: h.owner.id, node: h.node.id, feature_limits: { backups: 'lots' } } });
      assertError(badLimit, 422, 'ValidationException');
      assert.equal(badLimit.body.errors[0].meta.source_field, 'feature_limits.backups');

      const port = await closedPort();
      const offline = await h.api('POST', '/api/application/nodes', { key: adminKey, body: { name: 'offline', url: `http://127.0.0.1:${port}` } });
      const before = (await h.api('GET', '/api/application/servers', { key: adminKey })).body.meta.pagination.total;
      const res = await h.api('POST', '/api/application/servers', { key: adminKey, body: { name: 'x', user: h.owner.id, node: offline.body.attributes.id } });
      assertError(res, 504, 'DaemonConnectionException', 'Could not establish a connection to the machine running this server. Please try again.');
      const afterTotal = (await h.api('GET', '/api/application/servers', { key: adminKey })).body.meta.pagination.total;
      assert.equal(afterTotal, before, 'the server row was rolled back');
    });
  });
}
