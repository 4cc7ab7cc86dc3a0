/**
 * A small run of the load benchmark's seeding (bench/load/seed.ts), so `npm run bench:load` does
 * not rot between runs: what it seeds is what the client API lists. Then, on SQLite and on
 * PostgreSQL, how many statements the benchmarked routes run, and that what a panel keeps in memory
 * for them never outlives a change made by another panel on the same database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext } from '../../src/panel/context.ts';
import { seedPanel } from '../../bench/load/seed.ts';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { buildPanelApp } from '../../src/panel/http/app.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';
import { freshSqliteUrl, testDatabaseUrls } from '../support/postgres.ts';
import { sql } from 'kysely';
import { LISTENER_APPLICATION_NAME } from '../../src/panel/db/change-feed.ts';

test('load seeding: servers with completed backups, owned by the key holder, listed by the client API service', async () => {
  const ctx = await openPanelContext(loadPanelConfig({ DATABASE_URL: freshSqliteUrl() }));
  try {
    const seeded = await seedPanel(ctx, { servers: 7, backupsPerServer: 3, daemonUrl: 'http://127.0.0.1:1' });
    assert.equal(seeded.identifiers.length, 7);
    assert.equal(new Set(seeded.identifiers).size, 7);
    const auth = await ctx.services.apiKeys.authenticate(seeded.clientKey);
    assert.ok(auth);
    const server = await ctx.repos.servers.findByRouteKey(seeded.identifiers[6]!);
    assert.equal(server?.owner_id, auth.user.id);
    const list = await ctx.services.backups.list(server!, 1, 50);
    assert.equal(list.total, 3);
    assert.ok(list.rows.every(({ backup: b }) => b.is_successful === 1 && b.completed_at !== null));
  } finally {
    await ctx.close();
  }
});

/**
 * Statements each hot client API request runs, counted at the driver (better-sqlite3's statement
 * calls, pg's client.query). The list route was 20 (a destination lookup per backup), then 5; these counts
 * are what `npm run bench:load` measures (docs/benchmarks.md, the load section).
 */
let statements = 0;
const require = createRequire(import.meta.url);
{
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const probe = new Sqlite(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  for (const m of ['all', 'get', 'run', 'iterate']) {
    const original = proto[m]!;
    proto[m] = function (this: unknown, ...a: unknown[]) { statements++; return original.apply(this, a); };
  }
  const pg = require('pg') as typeof import('pg');
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  (pg.Client.prototype as unknown as { query: unknown }).query = function (this: unknown, ...a: unknown[]) { statements++; return query.apply(this, a); };
}

for (const db of await testDatabaseUrls()) {
  test(`client API on ${db.name}: the backup list with no query but the rate-limit hit (key, scope and page kept until something that shows moves), create in 15 at most, and revoked access ends at once`, async () => {
    const daemon = createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end(); }); });
    await new Promise<void>((r) => daemon.listen(0, '127.0.0.1', r));
    const env = { DATABASE_URL: await db.url(), APP_KEY: TEST_APP_KEY, BACKUP_THROTTLE_PERIOD: '0', PANEL_WEB_DIST: '/nonexistent' };
    const ctx = await openPanelContext(loadPanelConfig(env));
    const app = await buildPanelApp(ctx, { docs: false });
    // A second panel process on the same database (on SQLite: what the CLI or another process is).
    const ctxB = await openPanelContext(loadPanelConfig(env), { skipMigrations: true });
    const appB = await buildPanelApp(ctxB, { docs: false });
    try {
      const seeded = await seedPanel(ctx, { servers: 3, backupsPerServer: 4, daemonUrl: `http://127.0.0.1:${(daemon.address() as { port: number }).port}` });
      const [id] = seeded.identifiers;
      const server = (await ctx.repos.servers.findByRouteKey(id!))!;
      const dflt = (await ctx.repos.destinations.findDefault())!;
      // A copy of one backup, so the list's per-backup placement is checked, not just present.
      const [first] = await ctx.repos.backups.listAllForServer(server.id);
      const other = await ctx.repos.destinations.insert({ uuid: randomUUID(), name: 'second', kind: 'local', endpoint: null, region: null, bucket: null, prefix: '', access_key_id: null, secret_access_key: null, path_style: 0, storage_class: null, part_size: null, is_default: 0, copy_to_id: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
      await ctx.repos.destinations.queueCopy(first!.id, other.id, new Date().toISOString());
      await ctx.db.updateTable('backup_copies' as never).set({ status: 'done' } as never).execute();

      // SQLite: what is kept is checked against PRAGMA data_version (a statement of its own).
      const check = db.name === 'sqlite' ? 1 : 0;
      const call = async (method: 'GET' | 'POST', key = seeded.clientKey, url = `/api/client/servers/${id}/backups`) => {
        // PostgreSQL: every notification of what this test wrote has arrived (none lands mid-count).
        await ctx.database.changes.sync();
        const before = statements;
        const r = await app.inject({ method, url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { payload: '{"name":"counted"}' } : {}) });
        return { status: r.statusCode, body: r.json(), statements: statements - before };
      };
      const cold = await call('GET'); // the key's first use writes last_used_at once; the page is read and kept
      assert.equal(cold.status, 200);
      const list = await call('GET');
      assert.equal(list.status, 200);
      // The rate-limit hit only (one at a time at this rate; leases under load: rate-limiter.test.ts):
      // key, user, server, node, subuser and list version are kept (server-scope.repository.ts,
      // findWithKeyKept), and so is the page (its version has not moved).
      assert.equal(list.statements, 1 + check);
      assert.deepEqual(list.body, cold.body, 'the cached page is the page');
      // The kept key still checks the secret: its identifier with another secret is refused.
      const forged = `${seeded.clientKey.slice(0, 16)}${'x'.repeat(32)}`;
      assert.equal((await call('GET', forged)).status, 401, 'a kept key with a wrong secret');
      assert.equal((await call('GET')).status, 200);
      assert.equal(list.body.data.length, 4);
      assert.deepEqual(list.body.data.map((b: any) => [b.attributes.destination, b.attributes.copies]), [[dflt.name, 1], [dflt.name, 0], [dflt.name, 0], [dflt.name, 0]]);
      assert.equal(list.body.meta.backup_count, 4);
      assert.equal(list.body.meta.backup_bytes, 1_048_576 * (1 + 2 + 3 + 4));
      assert.equal(list.body.meta.pagination.total, 4);
      const past = await call('GET', seeded.clientKey, `/api/client/servers/${id}/backups?page=3&per_page=2`);
      // A page not seen yet: the rate-limit hit, the page (empty), the totals (key and scope kept).
      assert.equal(past.statements, 3 + check);
      assert.deepEqual([past.body.data.length, past.body.meta.pagination.total, past.body.meta.backup_count], [0, 4, 4]);

      // The kept page is never stale: every change that shows in it bumps the server's list version
      // in the same transaction (migration 0014), whoever makes it (written here straight to the
      // database, as another panel process, the CLI or a daemon report would).
      const shown = async () => (await call('GET')).body;
      await ctx.db.updateTable('backup_copies' as never).set({ status: 'failed' } as never).execute();
      assert.deepEqual((await shown()).data.map((b: any) => b.attributes.copies), [0, 0, 0, 0], 'a copy that failed');
      await ctx.db.updateTable('backups').set({ name: 'renamed' }).where('id', '=', first!.id).execute();
      assert.equal((await shown()).data[0].attributes.name, 'renamed', 'a backup changed');
      await ctx.db.updateTable('destinations' as never).set({ name: 'renamed-default' } as never).where('id' as never, '=', dflt.id as never).execute();
      assert.deepEqual((await shown()).data.map((b: any) => b.attributes.destination), Array(4).fill('renamed-default'), 'a destination renamed');
      await ctx.db.updateTable('backups').set({ deleted_at: new Date().toISOString() }).where('id', '=', first!.id).execute();
      const afterDelete = await shown();
      assert.deepEqual([afterDelete.data.length, afterDelete.meta.backup_count], [3, 3], 'a backup deleted');
      await ctx.db.updateTable('backups').set({ deleted_at: null }).where('id', '=', first!.id).execute();
      await ctx.db.updateTable('destinations' as never).set({ name: dflt.name } as never).where('id' as never, '=', dflt.id as never).execute();
      // Another server's page is its own: a change here leaves it cached (its key and scope are read
      // again: any write to a backup drops every kept scope, with its list version).
      const otherServer = `/api/client/servers/${seeded.identifiers[1]}/backups`;
      await call('GET', seeded.clientKey, otherServer);
      assert.equal((await call('GET', seeded.clientKey, otherServer)).statements, 1 + check, 'kept');
      await ctx.db.updateTable('backups').set({ name: 'again' }).where('id', '=', first!.id).execute();
      assert.equal((await call('GET', seeded.clientKey, otherServer)).statements, 2 + check, 'scope read again, page still kept');

      const created = await call('POST');
      assert.equal(created.status, 200);
      assert.ok(created.statements <= 15, `create ran ${created.statements} statements`);
      assert.deepEqual([created.body.attributes.name, created.body.attributes.destination, created.body.attributes.copies], ['counted', dflt.name, 0]);
      const afterCreate = await shown();
      assert.deepEqual([afterCreate.data.length, afterCreate.meta.backup_count, afterCreate.data[4].attributes.name], [5, 5, 'counted'], 'a backup created');

      // Access is never cached: a removed subuser and a deleted key lose access on their next request.
      const helper = await ctx.services.users.create({ email: `helper-${randomUUID().slice(0, 8)}@example.test`, password: 'helper password' });
      const { key, identifier } = await ctx.services.apiKeys.create(helper.id, { type: 'client' });
      const at = new Date().toISOString();
      await ctx.db.insertInto('subusers').values({ user_id: helper.id, server_id: server.id, permissions: JSON.stringify(['backup.read']), created_at: at, updated_at: at }).execute();
      assert.equal((await call('GET', key)).status, 200);
      assert.equal((await call('POST', key)).status, 403);
      await ctx.db.deleteFrom('subusers').where('user_id', '=', helper.id).execute();
      assert.equal((await call('GET', key)).status, 404);
      await ctx.db.insertInto('subusers').values({ user_id: helper.id, server_id: server.id, permissions: JSON.stringify(['backup.read']), created_at: at, updated_at: at }).execute();
      assert.equal((await call('GET', key)).status, 200);
      assert.equal(await ctx.services.apiKeys.delete(helper.id, identifier), true);
      assert.equal((await call('GET', key)).status, 401);

      // Across panels: B keeps what it read; a change committed through A reaches B's memory (PostgreSQL:
      // the NOTIFY of migration 0015's triggers, waited for by sync(); SQLite: data_version), so B refuses a
      // revoked key or a removed subuser and lists a backup made through A on its next request.
      const onB = async (method: 'GET' | 'POST', key: string, opts: { sync?: boolean } = {}) => {
        if (opts.sync !== false) await ctxB.database.changes.sync();
        const before = statements;
        const r = await appB.inject({ method, url: `/api/client/servers/${id}/backups`, headers: { authorization: `Bearer ${key}` } });
        return { status: r.statusCode, body: r.json(), statements: statements - before };
      };
      const mate = await ctx.services.users.create({ email: `mate-${randomUUID().slice(0, 8)}@example.test`, password: 'mate password' });
      const mateKey = await ctx.services.apiKeys.create(mate.id, { type: 'client' });
      await ctx.db.insertInto('subusers').values({ user_id: mate.id, server_id: server.id, permissions: JSON.stringify(['backup.read']), created_at: at, updated_at: at }).execute();
      assert.equal((await onB('GET', mateKey.key)).status, 200);
      const keptOnB = await onB('GET', mateKey.key);
      assert.deepEqual([keptOnB.status, keptOnB.statements], [200, 1 + check], 'B keeps the key and scope');
      await ctx.db.deleteFrom('subusers').where('user_id', '=', mate.id).execute();
      assert.equal((await onB('GET', mateKey.key)).status, 404, 'a subuser removed on A');
      await ctx.db.insertInto('subusers').values({ user_id: mate.id, server_id: server.id, permissions: JSON.stringify(['backup.read']), created_at: at, updated_at: at }).execute();
      assert.equal((await onB('GET', mateKey.key)).status, 200);
      const listedOnB = (await onB('GET', seeded.clientKey)).body.data.length;
      assert.equal((await call('POST')).status, 200);
      assert.equal((await onB('GET', seeded.clientKey)).body.data.length, listedOnB + 1, 'a backup made through A');
      if (db.name === 'postgres') {
        // A lost listener: B drops everything it kept and reads the database until it has subscribed
        // again; a change made meanwhile (here: the subuser removed) shows at once and after.
        await onB('GET', mateKey.key);
        assert.equal((await onB('GET', mateKey.key)).statements, 1, 'kept before');
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${LISTENER_APPLICATION_NAME}`.execute(ctx.db);
        for (let i = 0; i < 200 && ctxB.database.changes.refresh(); i++) await new Promise((r) => setTimeout(r, 5));
        assert.equal(ctxB.database.changes.refresh(), false, 'B saw its listener go');
        const down = await onB('GET', mateKey.key, { sync: false });
        assert.deepEqual([down.status, down.statements], [200, 2], 'read from the database (key and scope, then the rate-limit hit)');
        await ctx.db.deleteFrom('subusers').where('user_id', '=', mate.id).execute();
        assert.equal((await onB('GET', mateKey.key, { sync: false })).status, 404, 'while the listener is down');
        await ctxB.database.changes.whenUsable();
        assert.equal((await onB('GET', mateKey.key)).status, 404, 'after it subscribed again');
        await ctx.db.insertInto('subusers').values({ user_id: mate.id, server_id: server.id, permissions: JSON.stringify(['backup.read']), created_at: at, updated_at: at }).execute();
        assert.equal((await onB('GET', mateKey.key)).status, 200);
        assert.equal((await onB('GET', mateKey.key)).statements, 1, 'kept again');
      }
      assert.equal(await ctx.services.apiKeys.delete(mate.id, mateKey.identifier), true);
      assert.equal((await onB('GET', mateKey.key)).status, 401, 'a key revoked on A');
    } finally {
      await appB.close();
      await ctxB.close();
      await app.close();
      await ctx.close();
      daemon.close();
    }
  });
}
