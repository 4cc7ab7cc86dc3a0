/**
 * APP_KEY: node tokens and webhook secrets are sealed at rest, an upgraded database's clear
 * secrets are sealed by migration 0008 (and its nodes still authenticate), the key rotates, and
 * what happens without APP_KEY (SQLite: a key file beside the database; PostgreSQL: refused).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Migrator, sql, type Migration } from 'kysely';
import { generateAppKey, parseAppKey, SecretBox } from '../../src/core/secret-box.ts';
import { loadPanelConfig, type PanelConfig } from '../../src/panel/config.ts';
import { openPanelContext, type PanelContext } from '../../src/panel/context.ts';
import { createDatabase } from '../../src/panel/db/database.ts';
import { panelMigrations } from '../../src/panel/db/migrations/index.ts';
import { KeyRotationService } from '../../src/panel/services/key-rotation.service.ts';
import { freshPostgresUrl, freshSqliteUrl, testDatabaseUrls } from '../support/postgres.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';
import { json, runCli } from '../cli/support/stack.ts';

function config(databaseUrl: string, env: Record<string, string> = {}): PanelConfig {
  return loadPanelConfig({ DATABASE_URL: databaseUrl, PANEL_WEB_DIST: '/nonexistent', ...env });
}

async function storedToken(ctx: PanelContext, id: number): Promise<string> {
  const r = await sql<{ daemon_token: string }>`select daemon_token from nodes where id = ${id}`.execute(ctx.db);
  return r.rows[0]!.daemon_token;
}

async function authenticates(ctx: PanelContext, tokenId: string, token: string): Promise<boolean> {
  try {
    await ctx.services.nodes.authenticateDaemon(`Bearer ${tokenId}.${token}`);
    return true;
  } catch {
    return false;
  }
}

test('config: APP_KEY and APP_PREVIOUS_KEYS are parsed; a malformed one is a clear configuration error', () => {
  const prev = [generateAppKey(), generateAppKey()];
  const c = loadPanelConfig({ APP_KEY: TEST_APP_KEY, APP_PREVIOUS_KEYS: prev.join(',') });
  assert.deepEqual(c.appKey, parseAppKey(TEST_APP_KEY));
  assert.deepEqual(c.previousAppKeys, prev.map((k) => parseAppKey(k)));
  assert.equal(loadPanelConfig({}).appKey, undefined);
  assert.throws(() => loadPanelConfig({ APP_KEY: 'base64:c2hvcnQ=' }), /invalid configuration: APP_KEY must be "base64:"/);
  assert.throws(() => loadPanelConfig({ APP_KEY: TEST_APP_KEY, APP_PREVIOUS_KEYS: `${prev[0]},nope` }), /APP_PREVIOUS_KEYS \(key 2\) must be "base64:"/);
});

test('PostgreSQL without APP_KEY refuses to start, saying how to make one', async () => {
  await assert.rejects(openPanelContext(config(await freshPostgresUrl())), /APP_KEY is required with PostgreSQL.*backwing admin key generate/);
});

test('SQLite without APP_KEY: a key is generated once beside the database (0600) and reused', async () => {
  const url = freshSqliteUrl();
  const keyFile = join(dirname(url.slice('sqlite:'.length)), 'app.key');
  let ctx = await openPanelContext(config(url));
  const node = await ctx.services.nodes.create({ name: 'n', url: 'http://127.0.0.1:1' });
  await ctx.close();
  assert.ok(existsSync(keyFile));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const key = readFileSync(keyFile, 'utf8');
  ctx = await openPanelContext(config(url));
  try {
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key is not regenerated');
    assert.ok(await authenticates(ctx, node.tokenId, node.token));
  } finally {
    await ctx.close();
  }
});

for (const db of await testDatabaseUrls()) {
  describe(`APP_KEY on ${db.name}`, () => {
    test('node tokens and webhook secrets are sealed at rest and read back open', async () => {
      const ctx = await openPanelContext(config(await db.url(), { APP_KEY: TEST_APP_KEY }));
      try {
        const node = await ctx.services.nodes.create({ name: 'n', url: 'http://127.0.0.1:1' });
        const stored = await storedToken(ctx, node.id);
        assert.match(stored, /^bw1:/);
        assert.ok(!stored.includes(node.token));
        assert.ok(await authenticates(ctx, node.tokenId, node.token));
        assert.ok(!(await authenticates(ctx, node.tokenId, 'x'.repeat(64))));
        assert.equal((await ctx.repos.nodes.findById(node.id))!.daemon_token, node.token);
        // A reset token is sealed too.
        const reset = await ctx.services.nodes.resetToken(node.id);
        assert.match(await storedToken(ctx, node.id), /^bw1:/);
        assert.ok(await authenticates(ctx, reset.tokenId, reset.token));

        const hook = await ctx.repos.notifications.insertWebhook({ uuid: 'w-1', server_id: await serverId(ctx, node.id), url: 'http://127.0.0.1:1/h', secret: 'webhook-signing-secret', format: 'generic', created_at: new Date().toISOString() });
        assert.equal(hook.secret, 'webhook-signing-secret');
        const raw = await sql<{ secret: string }>`select secret from notification_webhooks where id = ${hook.id}`.execute(ctx.db);
        assert.match(raw.rows[0]!.secret, /^bw1:/);
      } finally {
        await ctx.close();
      }
    });

    test('upgrade: migration 0008 seals the clear secrets of an older database, and its nodes still authenticate', async () => {
      const url = await db.url();
      const box = new SecretBox([parseAppKey(TEST_APP_KEY)]);
      const database = createDatabase(url);
      const at = new Date().toISOString();
      try {
        // The database as the previous release left it: migrated to 0005, tokens in clear.
        const all = panelMigrations(box);
        const old: Record<string, Migration> = Object.fromEntries(Object.entries(all).filter(([name]) => name <= '0005_notifications'));
        const r = await new Migrator({ db: database.db, provider: { getMigrations: async () => old } }).migrateToLatest();
        assert.equal(r.error, undefined);
        await database.db.insertInto('users').values({ uuid: 'u-1', email: 'o@example.test', username: 'o', password_hash: 'x', root_admin: 0, created_at: at, updated_at: at }).execute();
        await database.db.insertInto('nodes').values({ uuid: 'n-1', name: 'old', url: 'http://127.0.0.1:1', daemon_token_id: 'oldtokenid000001', daemon_token: 'clear-daemon-token', maintenance: 0, created_at: at, updated_at: at }).execute();
        await database.db.insertInto('servers').values({ uuid: 's-1', identifier: 's0000001', name: 's', owner_id: 1, node_id: 1, status: null, backup_limit: 1, created_at: at, updated_at: at }).execute();
        await sql`insert into notification_webhooks (uuid, server_id, url, secret, format, created_at) values ('w-1', 1, 'http://127.0.0.1:1/h', 'clear-webhook-secret', 'generic', ${at})`.execute(database.db);
      } finally {
        await database.close();
      }
      const ctx = await openPanelContext(config(url, { APP_KEY: TEST_APP_KEY }));
      try {
        const stored = await storedToken(ctx, 1);
        assert.match(stored, /^bw1:/);
        assert.equal(box.open(stored), 'clear-daemon-token');
        assert.ok(await authenticates(ctx, 'oldtokenid000001', 'clear-daemon-token'));
        const raw = await sql<{ secret: string }>`select secret from notification_webhooks where uuid = 'w-1'`.execute(ctx.db);
        assert.equal(box.open(raw.rows[0]!.secret), 'clear-webhook-secret');
        assert.equal((await ctx.repos.notifications.listWebhooks(1))[0]!.secret, 'clear-webhook-secret');
      } finally {
        await ctx.close();
      }
    });

    test('rotation: the old key in APP_PREVIOUS_KEYS keeps nodes working until `rotate` re-seals everything under the new key', async () => {
      const url = await db.url();
      const oldKey = TEST_APP_KEY;
      const newKey = generateAppKey();
      let ctx = await openPanelContext(config(url, { APP_KEY: oldKey }));
      const node = await ctx.services.nodes.create({ name: 'n', url: 'http://127.0.0.1:1' });
      await ctx.close();

      // Only the new key: the old seal does not open, and the error says which key is missing.
      ctx = await openPanelContext(config(url, { APP_KEY: newKey }));
      try {
        await assert.rejects(ctx.repos.nodes.findById(node.id), /sealed with key [0-9a-f]{8}, which is neither APP_KEY nor in APP_PREVIOUS_KEYS/);
        await assert.rejects(new KeyRotationService(ctx.deps).rotate(), /nodes.daemon_token of row \d+: .*nothing was changed/);
      } finally {
        await ctx.close();
      }

      ctx = await openPanelContext(config(url, { APP_KEY: newKey, APP_PREVIOUS_KEYS: oldKey }));
      try {
        assert.ok(await authenticates(ctx, node.tokenId, node.token), 'the previous key still opens');
        const report = await new KeyRotationService(ctx.deps).rotate();
        assert.equal(report.resealed, 1);
        assert.deepEqual(await new KeyRotationService(ctx.deps).rotate().then((r) => [r.resealed, r.current]), [0, 1], 'a second rotation has nothing to do');
      } finally {
        await ctx.close();
      }

      ctx = await openPanelContext(config(url, { APP_KEY: newKey }));
      try {
        assert.ok(await authenticates(ctx, node.tokenId, node.token), 'after rotation the new key alone suffices');
      } finally {
        await ctx.close();
      }
    });
  });
}

test('`backwing admin key generate` prints a usable key; `key rotate` re-seals under it from the CLI', { timeout: 120_000 }, async () => {
  const gen = await runCli(['admin', 'key', 'generate', '--json']);
  assert.equal(gen.code, 0, gen.stderr);
  const newKey = json<{ app_key: string }>(gen).app_key;
  assert.equal(parseAppKey(newKey).length, 32);

  const url = freshSqliteUrl();
  const dataDir = dirname(url.slice('sqlite:'.length));
  // A zero-configuration install: the key is the generated app.key file.
  let ctx = await openPanelContext(config(url));
  const node = await ctx.services.nodes.create({ name: 'n', url: 'http://127.0.0.1:1' });
  await ctx.close();
  const fileKey = readFileSync(join(dataDir, 'app.key'), 'utf8').trim();

  const rot = await runCli(['admin', 'key', 'rotate', '--data', dataDir, '--json'], { env: { APP_KEY: newKey, APP_PREVIOUS_KEYS: fileKey } });
  assert.equal(rot.code, 0, rot.stderr);
  assert.equal(json<{ resealed: number }>(rot).resealed, 1);
  ctx = await openPanelContext(config(url, { APP_KEY: newKey }));
  try {
    assert.ok(await authenticates(ctx, node.tokenId, node.token));
  } finally {
    await ctx.close();
  }
});

async function serverId(ctx: PanelContext, nodeId: number): Promise<number> {
  const owner = await ctx.services.users.create({ email: `o-${nodeId}-${Date.now()}@example.test`, password: 'correct horse battery' });
  const s = await ctx.repos.servers.insert({ uuid: `s-${Date.now()}`, identifier: Math.random().toString(16).slice(2, 10), name: 's', owner_id: owner.id, node_id: nodeId, backup_limit: 1, at: new Date().toISOString() });
  return s.id;
}
