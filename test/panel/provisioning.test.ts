/**
 * Provisioning services the admin CLI, the application API and `backwing up` build on: users,
 * API keys (stored hashed, shown once), nodes, subusers.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { isAppError } from '../../src/core/app-error.ts';

const dbs = await testDatabaseUrls();

function rejectsWith(code: string, field?: string) {
  return (err: unknown) => {
    assert.ok(isAppError(err), String(err));
    assert.equal(err.code, code);
    if (field) assert.equal(err.meta?.source_field, field);
    return true;
  };
}

for (const db of dbs) {
  describe(`provisioning services (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url() });
    });
    after(async () => {
      await h?.close();
    });

    test('users: email lowercased and unique, password length, generated username, credentials check', async () => {
      const u = await h.ctx.services.users.create({ email: ' Alice@Example.com ', password: 'correct horse', rootAdmin: true });
      assert.equal(u.email, 'alice@example.com');
      assert.equal(u.username, 'alice');
      assert.equal(u.rootAdmin, true);
      assert.equal((await h.ctx.services.users.findByEmail('ALICE@example.com'))?.uuid, u.uuid);
      await assert.rejects(h.ctx.services.users.create({ email: 'alice@example.com', password: 'whatever1' }), rejectsWith('ValidationException', 'email'));
      await assert.rejects(h.ctx.services.users.create({ email: 'bob@example.com', password: 'short' }), rejectsWith('ValidationException', 'password'));
      await assert.rejects(h.ctx.services.users.create({ email: 'not-an-email', password: 'whatever1' }), rejectsWith('ValidationException', 'email'));
      const alice2 = await h.ctx.services.users.create({ email: 'alice@other.org', password: 'whatever1' });
      assert.equal(alice2.username, 'alice1');
      const row = await h.ctx.repos.users.findById(u.id);
      assert.ok(row!.password_hash.startsWith('scrypt$'));
      assert.ok(!row!.password_hash.includes('correct horse'));
      assert.equal((await h.ctx.services.users.verifyCredentials('alice@example.com', 'correct horse')).id, u.id);
      await assert.rejects(h.ctx.services.users.verifyCredentials('alice@example.com', 'wrong'), rejectsWith('InvalidCredentials'));
    });

    test('API keys: ptlc_/ptla_ prefixes, 48 characters, only a hash stored, revocable', async () => {
      const u = await h.ctx.services.users.create({ email: 'keys@example.com', password: 'whatever1' });
      const client = await h.ctx.services.apiKeys.create(u.id, { memo: 'ci' });
      const app = await h.ctx.services.apiKeys.create(u.id, { type: 'application' });
      assert.match(client.key, /^ptlc_[A-Za-z0-9]{43}$/);
      assert.match(app.key, /^ptla_[A-Za-z0-9]{43}$/);
      assert.equal(client.identifier, client.key.slice(0, 16));
      const stored = await h.ctx.repos.apiKeys.findByIdentifier(client.identifier);
      assert.ok(stored && !client.key.includes(stored.token_hash) && stored.token_hash.length === 64);
      assert.equal((await h.ctx.services.apiKeys.authenticate(client.key))?.type, 'client');
      assert.equal(await h.ctx.services.apiKeys.authenticate(client.key.slice(0, -1) + (client.key.endsWith('A') ? 'B' : 'A')), undefined);
      const r = await h.api('GET', '/api/client/account', { key: client.key });
      assert.equal(r.status, 200);
      assert.equal(await h.ctx.services.apiKeys.delete(u.id, client.identifier), true);
      assert.equal((await h.api('GET', '/api/client/account', { key: client.key })).status, 401);
    });

    test('nodes: URL normalised, token id + token returned, daemon auth checks both parts', async () => {
      const n = await h.ctx.services.nodes.create({ name: 'n2', url: 'http://10.0.0.5:8080/some/path' });
      assert.equal(n.url, 'http://10.0.0.5:8080');
      assert.equal(n.tokenId.length, 16);
      assert.equal(n.token.length, 64);
      assert.equal((await h.ctx.services.nodes.authenticateDaemon(`Bearer ${n.tokenId}.${n.token}`)).uuid, n.uuid);
      await assert.rejects(h.ctx.services.nodes.authenticateDaemon(`Bearer ${n.tokenId}.x`), rejectsWith('AccessDeniedHttpException'));
      await assert.rejects(h.ctx.services.nodes.create({ name: 'bad', url: 'not a url' }), rejectsWith('ValidationException', 'url'));
      assert.equal((await h.ctx.services.nodes.find('n2'))?.uuid, n.uuid);
    });

    test('subusers: new email creates a user; unknown permission, owner and duplicate refused; update and delete', async () => {
      const server = await h.server(h.owner.id);
      const sub = await h.ctx.services.subusers.create(server, { email: 'helper@example.com', permissions: ['backup.read', 'backup.download'] });
      assert.deepEqual(sub.permissions.sort(), ['backup.download', 'backup.read', 'websocket.connect']);
      assert.ok(await h.ctx.services.users.findByEmail('helper@example.com'));
      await assert.rejects(h.ctx.services.subusers.create(server, { email: 'x@example.com', permissions: ['backup.everything'] }), rejectsWith('ValidationException', 'permissions.0'));
      await assert.rejects(h.ctx.services.subusers.create(server, { email: 'owner@example.com', permissions: [] }), rejectsWith('ValidationException', 'email'));
      await assert.rejects(h.ctx.services.subusers.create(server, { email: 'helper@example.com', permissions: [] }), rejectsWith('ValidationException', 'email'));
      const up = await h.ctx.services.subusers.update(server, sub.uuid, ['backup.delete']);
      assert.deepEqual(up.permissions.sort(), ['backup.delete', 'websocket.connect']);
      const helperKey = (await h.ctx.services.apiKeys.create(sub.userId)).key;
      const view = await h.api('GET', `/api/client/servers/${server.identifier}`, { key: helperKey });
      assert.deepEqual(view.body.meta.user_permissions.sort(), ['backup.delete', 'websocket.connect']);
      await assert.rejects(h.ctx.services.users.delete(h.owner.id), rejectsWith('ConflictHttpException'));
      await h.ctx.services.subusers.delete(server, sub.uuid);
      assert.equal((await h.api('GET', `/api/client/servers/${server.identifier}`, { key: helperKey })).status, 404);
    });
  });
}
