/**
 * startPanel as the CLI runs it: listens, serves the web UI with an index.html fallback outside
 * the API, /metrics and /docs, runs the prune timer, and closes cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freshSqliteUrl } from '../support/postgres.ts';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { startPanel } from '../../src/panel/main.ts';
import { waitFor } from './support/harness.ts';

test('startPanel serves UI, API errors, metrics and docs; prune timer fails stale backups; close releases everything', async () => {
  const web = mkdtempSync(join(tmpdir(), 'backwing-web-'));
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>backwing</title>');
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
  const config = loadPanelConfig({
    DATABASE_URL: freshSqliteUrl(), PANEL_HOST: '127.0.0.1', PANEL_PORT: '0', PANEL_WEB_DIST: web,
    BACKUP_PRUNE_AGE: '1', BACKUP_PRUNE_INTERVAL: '1',
  });
  const panel = await startPanel(config);
  try {
    assert.match(panel.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const index = await fetch(`${panel.url}/`);
    assert.equal(index.status, 200);
    assert.match(await index.text(), /<title>backwing<\/title>/);
    const deep = await fetch(`${panel.url}/server/abcd1234/backups`, { headers: { accept: 'text/html' } });
    assert.equal(deep.status, 200);
    assert.match(await deep.text(), /<title>backwing/);
    const asset = await fetch(`${panel.url}/assets/app.js`);
    assert.equal(await asset.text(), 'console.log(1)');
    const api404 = await fetch(`${panel.url}/api/client/unknown`);
    assert.equal(api404.status, 404);
    assert.equal(((await api404.json()) as any).errors[0].code, 'NotFoundHttpException');
    const post404 = await fetch(`${panel.url}/somewhere`, { method: 'POST' });
    assert.equal(post404.status, 404);
    await post404.arrayBuffer();

    const metrics = await fetch(`${panel.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /backwing_panel_backups_in_progress/);
    const docs = await fetch(`${panel.url}/docs/json`);
    const doc = (await docs.json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/client/servers/{server}/backups'], 'backup routes documented');
    assert.ok(doc.paths['/api/remote/backups/{uuid}'], 'remote routes documented');

    // A backup stuck in progress for longer than the prune age is failed by the timer.
    const ctx = panel.context;
    const at = new Date().toISOString();
    const user = await ctx.services.users.create({ email: 'p@example.com', password: 'password123' });
    const node = await ctx.repos.nodes.insert({ uuid: randomUUID(), name: 'n', url: 'http://127.0.0.1:9', daemon_token_id: 'tokenidtokenid12', daemon_token: 't', at });
    const uuid = randomUUID();
    const server = await ctx.repos.servers.insert({ uuid, identifier: uuid.slice(0, 8), name: 's', owner_id: user.id, node_id: node.id, backup_limit: 1, at });
    const stale = await ctx.repos.backups.insert({ server_id: server.id, uuid: randomUUID(), name: 'stuck', ignored_files: [], disk: 'wings', is_locked: false, at: new Date(Date.now() - 2 * 60_000).toISOString() });
    await waitFor('prune timer', async () => (await ctx.repos.backups.findById(stale.id))?.completed_at, 10_000);
    assert.equal((await ctx.repos.backups.findById(stale.id))!.is_successful, 0);

    // So is a server left restoring with no report for longer than the prune age.
    const restoring = await ctx.repos.servers.insert({ uuid: randomUUID(), identifier: randomUUID().slice(0, 8), name: 'r', owner_id: user.id, node_id: node.id, backup_limit: 1, at });
    await ctx.repos.servers.setStatus(restoring.id, 'restoring_backup', new Date(Date.now() - 2 * 60_000).toISOString());
    await waitFor('stale restore released', async () => (await ctx.repos.servers.findById(restoring.id))?.status === null, 10_000);
  } finally {
    await panel.close();
    rmSync(web, { recursive: true, force: true });
  }
  await assert.rejects(fetch(`${panel.url}/`, { signal: AbortSignal.timeout(2000) }), 'no longer listening');
});
