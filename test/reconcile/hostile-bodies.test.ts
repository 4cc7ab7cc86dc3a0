/**
 * Issue 12, defect 5: hostile bodies are a 4xx, never a 5xx, on every route of both services,
 * with and without credentials. The routes are taken from the apps as they register them (not a
 * hand-written list), so a route added later is fuzzed too.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteOptions } from 'fastify';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, type Harness } from '../panel/support/harness.ts';
import { buildPanelApp } from '../../src/panel/http/app.ts';

const dbs = await testDatabaseUrls();

interface Route { method: string; url: string }

function collect(into: Route[]) {
  return (r: RouteOptions) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD' && m !== 'OPTIONS') into.push({ method: m, url: r.url });
  };
}

/** Deep nesting made of the cheapest bytes: ~2 bytes a level. */
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const wideObject = (keys: number) => `{${Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(',')}}`;

const BODIES: Record<string, string> = {
  'deep array, 1,700 levels (4 KB)': deepArray(1_700),
  'deep object, 1,700 levels': `{"name":${deepObject(1_700)}}`,
  'deep array, 300,000 levels': deepArray(300_000),
  'deep under a known field': `{"truncate":${deepArray(5_000)},"name":${deepArray(5_000)}}`,
  'wide object, 60,000 keys': wideObject(60_000),
  'wide array, 200,000 items': `[${Array.from({ length: 200_000 }, () => '0').join(',')}]`,
  'huge string, 3 MiB': JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) }),
  'malformed: cut short': '{"name": "a',
  'malformed: NUL key': '{"\\u0000":"\\u0000"}',
  'malformed: lone surrogate': '{"name":"\\ud800"}',
  'malformed: not JSON': '\u0000\u0001garbage',
  'scalar body': '12345678901234567890123456789',
  'proto keys': '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}',
};

function fill(url: string, values: Record<string, string>): string {
  return url.replace(/:([A-Za-z_]+)/g, (_m, name: string) => values[name] ?? '00000000-0000-4000-8000-000000000000').replace(/\*$/, 'x');
}

async function send(base: string, r: Route, body: string, auth: string | null): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (auth) headers.authorization = auth;
  const method = r.method;
  const res = await fetch(base + r.url, { method, headers, body: method === 'GET' ? undefined : body, signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => {
    throw new Error(`${method} ${r.url}: ${String(err)}`);
  });
  await res.arrayBuffer();
  return res.status;
}

for (const db of dbs) {
  describe(`hostile bodies on every route (${db.name})`, () => {
    let h: Harness;
    const daemonRoutes: Route[] = [];
    const panelRoutes: Route[] = [];
    let panelApp: Awaited<ReturnType<typeof buildPanelApp>>;
    let panelUrl = '';
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), onDaemonRoute: collect(daemonRoutes) });
      // A second app over the same context, built with a route collector (the harness's is already built).
      panelApp = await buildPanelApp(h.ctx, { onRoute: collect(panelRoutes) });
      await panelApp.listen({ host: '127.0.0.1', port: 0 });
      const addr = panelApp.server.address();
      panelUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    });
    after(async () => {
      await panelApp?.close();
      await h?.close();
    });

    test('the panel: no 5xx, with or without credentials', async () => {
      assert.ok(panelRoutes.length > 30, `only ${panelRoutes.length} panel routes seen`);
      const server = await h.server(h.owner.id);
      const backup = await h.fixtureBackup(server);
      const admin = await h.user('fuzz-admin@example.com', { rootAdmin: true, type: 'application' });
      const values = { server: server.identifier, backup: backup.uuid, uuid: backup.uuid, id: '1', user: '1', node: String(h.node.id), schedule: '1', task: '1' };
      const failures: string[] = [];
      for (const r of panelRoutes) {
        const route = { method: r.method, url: fill(r.url, values) };
        const auths = route.url.startsWith('/api/remote') ? [null, h.nodeAuth()]
          : route.url.startsWith('/api/application') ? [null, `Bearer ${admin.key}`]
          : [null, `Bearer ${h.ownerKey}`];
        for (const [name, body] of Object.entries(BODIES)) {
          for (const auth of auths) {
            const status = await send(panelUrl, route, body, auth);
            if (status >= 500) failures.push(`${status} ${r.method} ${r.url} ${auth ? 'authenticated' : 'anonymous'}: ${name}`);
          }
        }
      }
      assert.deepEqual(failures, []);
    });

    test('the daemon: no 5xx, with or without credentials', async () => {
      assert.ok(daemonRoutes.length >= 8, `only ${daemonRoutes.length} daemon routes seen`);
      const values = { server: crypto.randomUUID(), backup: crypto.randomUUID() };
      const failures: string[] = [];
      for (const r of daemonRoutes) {
        const route = { method: r.method, url: fill(r.url, values) };
        for (const [name, body] of Object.entries(BODIES)) {
          for (const auth of [null, `Bearer ${h.node.daemon_token}`]) {
            const status = await send(h.daemon!.url, route, body, auth);
            if (status >= 500) failures.push(`${status} ${r.method} ${r.url} ${auth ? 'authenticated' : 'anonymous'}: ${name}`);
          }
        }
      }
      assert.deepEqual(failures, []);
    });

    test('a body nested past 64 levels is a 400 in each service\'s error shape; over the limit is a 413', async () => {
      const login = { method: 'POST', url: '/auth/login' };
      const res = await fetch(panelUrl + login.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"email":${deepArray(65)}}` });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { errors: Array<{ code: string; status: string; detail: string }> };
      assert.equal(body.errors[0]!.status, '400');
      assert.match(body.errors[0]!.detail, /64 levels/);
      const ok = await fetch(panelUrl + login.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"email":${deepArray(60)}}` });
      assert.notEqual(ok.status, 400, 'a body within the limit gets to validation');
      const big = await fetch(panelUrl + login.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024) }) });
      assert.equal(big.status, 413);
      const d = await fetch(`${h.daemon!.url}/api/servers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.node.daemon_token}` }, body: deepObject(100) });
      assert.equal(d.status, 400);
      assert.match(((await d.json()) as { error: string }).error, /64 levels/);
    });
  });
}
