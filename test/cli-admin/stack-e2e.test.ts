/**
 * The provisioning path an operator follows, with real processes only: `backwing panel`, the
 * admin CLI for user/key/node/server, `backwing daemon` with the config `admin node create`
 * wrote, then a backup through the client API and the panel's /metrics reflecting it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { runCli, jsonOf } from './cli-runner.ts';
import { startProcess, stopProcess, type Running } from '../support/processes.ts';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('operator path: panel + admin CLI + daemon from the generated config → backup → metrics', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backwing-stack-e2e-'));
  const panelPort = await freePort();
  const daemonPort = await freePort();
  const env = { APP_URL: `http://127.0.0.1:${panelPort}`, DATABASE_URL: '', BACKUP_THROTTLE_PERIOD: '0' };
  let panel: Running | undefined;
  let daemon: Running | undefined;
  try {
    jsonOf(await runCli(['admin', 'user', 'create', '--data', dir, '--email', 'op@example.test', '--password', 'operator pw', '--admin', '--json'], { env }));
    const key = String(jsonOf(await runCli(['admin', 'key', 'create', '--data', dir, '--email', 'op@example.test', '--json'], { env })).key);

    panel = await startProcess(['panel', '--data', dir, '--port', String(panelPort), '--log-level', 'warn'], env);
    assert.equal(panel.url, `http://127.0.0.1:${panelPort}`);

    const cfg = join(dir, 'daemon.yml');
    const node = jsonOf(await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'local', '--url', `http://127.0.0.1:${daemonPort}`,
      '--root-dir', join(dir, 'daemon'), '--data-dir', join(dir, 'volumes'), '--backup-dir', join(dir, 'backups'), '--write-config', cfg, '--json'], { env }));
    assert.ok(node.uuid);
    daemon = await startProcess(['daemon', '--config', cfg, '--log-level', 'warn'], {});

    const server = jsonOf(await runCli(['admin', 'server', 'create', '--data', dir, '--name', 'Survival', '--owner', 'op@example.test', '--node', 'local', '--backup-limit', '2', '--json'], { env }));
    const id = String(server.identifier);
    mkdirSync(join(dir, 'volumes', String(server.uuid)), { recursive: true });
    writeFileSync(join(dir, 'volumes', String(server.uuid), 'world.dat'), 'x'.repeat(10_000));

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${panel!.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };

    const view = await api('GET', `/api/client/servers/${id}`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.attributes.feature_limits.backups, 2);

    const created = await api('POST', `/api/client/servers/${id}/backups`, { name: 'first' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const uuid = created.body.attributes.uuid as string;
    let done: any;
    for (const end = Date.now() + 60_000; Date.now() < end;) {
      const b = await api('GET', `/api/client/servers/${id}/backups/${uuid}`);
      if (b.body.attributes.completed_at) { done = b.body.attributes; break; }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(done, 'the backup completed within a minute');
    assert.equal(done.is_successful, true);
    assert.match(done.checksum, /^sha256:[0-9a-f]{64}$/);

    const metrics = await fetch(`${panel.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.equal(metricValue(text, 'backwing_panel_backups_total{driver="wings",outcome="started"}'), 1);
    assert.equal(metricValue(text, 'backwing_panel_backups_total{driver="wings",outcome="successful"}'), 1);
    assert.equal(metricValue(text, 'backwing_panel_backup_bytes_total'), done.bytes);
    assert.equal(metricValue(text, 'backwing_panel_backup_duration_seconds_count{driver="wings",outcome="successful"}'), 1);
    assert.equal(metricValue(text, 'backwing_panel_backups_in_progress'), 0);
    assert.ok((metricValue(text, 'backwing_panel_http_requests_total{route="/api/client/servers/:server/backups",status="200"}') ?? 0) >= 1);

    // The CLI still works against the same SQLite file while the panel runs (WAL).
    const servers = jsonOf(await runCli(['admin', 'server', 'list', '--data', dir, '--json'], { env }));
    assert.equal((servers.servers as unknown[]).length, 1);

    assert.equal(await stopProcess(daemon), 0, daemon.stderr());
    daemon = undefined;
    assert.equal(await stopProcess(panel), 0, panel.stderr());
    panel = undefined;
  } catch (err) {
    // The processes' own logs are what explains a failure here.
    const logs = `\n--- panel stderr ---\n${panel?.stderr() ?? ''}\n--- daemon stderr ---\n${daemon?.stderr() ?? ''}`;
    if (err instanceof Error) err.message += logs;
    throw err;
  } finally {
    if (daemon) await stopProcess(daemon);
    if (panel) await stopProcess(panel);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('backwing panel: a broken config is one line and a non-zero exit', { timeout: 60_000 }, async () => {
  const r = await runCli(['panel', '--port', '0'], { env: { DATABASE_URL: 'mysql://nope', APP_URL: '' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr.trim(), /^backwing: invalid configuration: DATABASE_URL must start with sqlite: or postgres:\/\//);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const port = await runCli(['panel', '--port', 'eighty'], { env: {} });
  assert.match(port.stderr, /--port must be a port number/);
});

test('backwing panel --config ENVFILE: settings from the file, real env wins, SIGTERM stops it cleanly', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backwing-panel-config-'));
  const port = await freePort();
  const envFile = join(dir, 'panel.env');
  writeFileSync(envFile, [
    '# panel settings',
    `DATABASE_URL=sqlite:${join(dir, 'from-file.sqlite')}`,
    'PANEL_PORT=1',
    `APP_URL="http://127.0.0.1:${port}"`,
    'BACKUP_THROTTLE_LIMIT=7',
  ].join('\n'));
  let panel: Running | undefined;
  try {
    // PANEL_PORT from the real environment overrides the file's (Laravel dotenv semantics).
    panel = await startProcess(['panel', '--config', envFile, '--log-level', 'silent'], { PANEL_PORT: String(port), DATABASE_URL: undefined });
    assert.equal(panel.url, `http://127.0.0.1:${port}`);
    const res = await fetch(`${panel.url}/api/client`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { errors: [{ code: 'AuthenticationException', status: '401', detail: 'Unauthenticated.' }] });
    const docs = await fetch(`${panel.url}/docs/json`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(docs.status, 200);
    assert.ok((await docs.json() as { paths: Record<string, unknown> }).paths['/api/application/servers']);
    // The admin CLI reads the same file and so the same database.
    const u = jsonOf(await runCli(['admin', 'user', 'create', '--config', envFile, '--email', 'cfg@example.test', '--password', 'config pw!', '--json'], { env: { DATABASE_URL: undefined } }));
    assert.equal(u.email, 'cfg@example.test');
    assert.ok(existsSync(join(dir, 'from-file.sqlite')), 'the database named in the file is the one in use');
    const login = await fetch(`${panel.url}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'cfg@example.test', password: 'config pw!' }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(login.status, 200, 'the running panel sees the user the CLI created');
    await login.arrayBuffer();
    // A new password set by the CLI replaces the old one at once.
    const set = jsonOf(await runCli(['admin', 'user', 'set-password', '--config', envFile, '--email', 'cfg@example.test', '--password-stdin', '--json'], { env: { DATABASE_URL: undefined }, input: 'a new password\n' }));
    assert.equal(set.password_set, true);
    const signIn = async (password: string) => {
      const r = await fetch(`${panel!.url}/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'cfg@example.test', password }), signal: AbortSignal.timeout(10_000),
      });
      await r.arrayBuffer();
      return r.status;
    };
    assert.equal(await signIn('config pw!'), 401);
    assert.equal(await signIn('a new password'), 200);
    const unknown = await runCli(['admin', 'user', 'set-password', '--config', envFile, '--email', 'ghost@example.test', '--password', 'whatever1'], { env: { DATABASE_URL: undefined } });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /user set-password: no user with email ghost@example\.test/);
    assert.equal(await stopProcess(panel), 0, panel.stderr());
    panel = undefined;
  } finally {
    if (panel) await stopProcess(panel);
    rmSync(dir, { recursive: true, force: true });
  }
});
