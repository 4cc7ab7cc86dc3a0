/**
 * `backwing admin destination …` as a script uses it (the real binary, SQLite `--data` dir, fauxqs
 * for S3): create with the secret on stdin, a refusal with S3's code, assign to a node, a restic
 * repository, list.
 * test/delete and their refusals are the same service calls the API tests cover on both databases.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { runCli, jsonOf } from '../cli-admin/cli-runner.ts';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext } from '../../src/panel/context.ts';

let dir: string;
let fx: FauxqsServer;
const env = { APP_URL: 'http://panel.example.test:8080', DATABASE_URL: '' };
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backwing-dest-cli-'));
  fx = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  fx.createBucket('cli-bucket');
});
after(async () => {
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('create (secret from stdin), a refusal naming the S3 code, assign to a node, list', { timeout: 120_000 }, async () => {
  const endpoint = `http://127.0.0.1:${fx.port}`;
  const created = jsonOf(await runCli(['admin', 'destination', 'create', '--data', dir, '--name', 'eu', '--kind', 's3', '--endpoint', endpoint,
    '--bucket', 'cli-bucket', '--prefix', 'eu', '--access-key-id', 'test', '--secret-stdin', '--path-style', '--json'], { env, input: 'test\n' }));
  assert.equal((created.destination as any).name, 'eu');
  assert.equal((created.destination as any).prefix, 'eu/');
  assert.equal((created.destination as any).has_secret, true);

  const missing = await runCli(['admin', 'destination', 'create', '--data', dir, '--name', 'gone', '--kind', 's3', '--endpoint', endpoint,
    '--bucket', 'no-such', '--access-key-id', 'test', '--secret-access-key', 'test', '--path-style'], { env });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /^backwing: destination create: The destination was not saved: .*NoSuchBucket/);

  // The node is made in process (each CLI start costs seconds on a loaded machine).
  const ctx = await openPanelContext(loadPanelConfig({}, { databaseUrl: `sqlite:${join(dir, 'panel.sqlite')}` }));
  const node = await ctx.services.nodes.create({ name: 'n1', url: 'http://127.0.0.1:9' });
  await ctx.close();
  const assigned = await runCli(['admin', 'destination', 'assign', 'eu', '--data', dir, '--node', 'n1', '--json'], { env });
  assert.equal(assigned.code, 0, assigned.stderr);
  assert.equal(jsonOf(assigned).node, node.uuid);

  // A restic repository (docs/restic.md): its password generated and sealed, never printed.
  const restic = await runCli(['admin', 'destination', 'create', '--data', dir, '--name', 'snaps', '--kind', 'restic', '--repository', '/srv/restic', '--json'], { env });
  assert.equal(restic.code, 0, restic.stderr);
  const snaps = jsonOf(restic).destination as Record<string, unknown>;
  assert.deepEqual([snaps.kind, snaps.repository, snaps.has_password, 'password' in snaps, 'restic_password' in snaps], ['restic', '/srv/restic', true, false, false]);
  assert.doesNotMatch(restic.stdout, /bw1:/);

  const list = await runCli(['admin', 'destination', 'list', '--data', dir], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^local\tlocal\ton each node\tdefault$/m, 'a fresh panel starts with the local default');
  assert.match(list.stdout, /^snaps\trestic\trestic repository \/srv\/restic$/m);
  assert.match(list.stdout, new RegExp(`^eu\\ts3\\t${endpoint.replace(/[.]/g, '\\.')} bucket cli-bucket prefix eu/$`, 'm'));
});
