/**
 * A small run of the load benchmark's seeding (bench/load/seed.ts), so `npm run bench:load` does
 * not rot between runs: what it seeds is what the client API lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext } from '../../src/panel/context.ts';
import { seedPanel } from '../../bench/load/seed.ts';
import { freshSqliteUrl } from '../support/postgres.ts';

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
