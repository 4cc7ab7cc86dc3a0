/**
 * `backwing up` as a user runs it: first run, reuse on later runs, the admin CLI beside it, live
 * progress over the daemon websocket, Ctrl-C during a job, and the one-line start-up errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { json, runCli, startUp, type CliResult, type StackInfo } from './support/stack.ts';
import { PanelApi } from '../../src/cli/client/panel-api.ts';
import { followJob } from '../../src/cli/client/follow.ts';

function oneLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l && !/Deprecation|--trace-warnings/.test(l));
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  return lines[0]!;
}

async function socketUrl(info: StackInfo): Promise<string> {
  const api = new PanelApi({ url: info.panel_url, key: info.api_key });
  return (await api.websocketCredentials(info.server_identifier)).socket;
}

describe('backwing up', () => {
  let dir: string;
  let data: string;
  let firstInfo: StackInfo;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-up-'));
    data = join(dir, 'data');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('first run: the JSON line, secrets in 0600 files, a usable admin, the daemon on its real port', async () => {
    const stack = await startUp({ dataDir: data });
    try {
      const info = (firstInfo = stack.info);
      for (const k of ['panel_url', 'daemon_url', 'api_key', 'node_uuid', 'server_identifier', 'server_uuid', 'admin_email']) {
        assert.equal(typeof (info as unknown as Record<string, unknown>)[k], 'string', k);
      }
      assert.equal(info.first_run, true);
      assert.equal(info.admin_email, 'admin@backwing.local');
      assert.match(info.api_key, /^ptlc_/);
      assert.match(info.panel_url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(info.daemon_url, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const f of ['api-key.txt', 'admin-password.txt']) {
        assert.equal((await stat(join(data, f))).mode & 0o777, 0o600, f);
      }
      assert.equal((await readFile(join(data, 'api-key.txt'), 'utf8')).trim(), info.api_key);
      assert.equal((await readFile(join(data, 'admin-password.txt'), 'utf8')).trim(), info.admin_password);

      const login = await fetch(`${info.panel_url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: info.admin_email, password: info.admin_password }),
      });
      assert.equal(login.status, 200);

      // Port 0 was asked for; the config file and the node URL carry the port really bound.
      const cfg = parse(await readFile(join(data, 'daemon', 'config.yml'), 'utf8')) as { api: { port: number }; remote: string };
      assert.equal(`http://127.0.0.1:${cfg.api.port}`, info.daemon_url);
      assert.equal(cfg.remote, info.panel_url);
      assert.ok((await socketUrl(info)).startsWith(info.daemon_url.replace('http', 'ws')));
      assert.ok(existsSync(join(data, 'volumes', info.server_uuid, 'server.properties')));

      // Both services expose Prometheus metrics in the one process.
      const pm = await fetch(`${info.panel_url}/metrics`);
      assert.equal(pm.status, 200);
      assert.match(await pm.text(), /^# TYPE backwing_panel_/m);
      const dm = await fetch(`${info.daemon_url}/metrics`);
      assert.equal(dm.status, 200);
      assert.match(await dm.text(), /^# TYPE backwing_daemon_backups_total counter/m);
    } finally {
      assert.equal(await stack.stop(), 0, stack.stderr());
    }
  });

  test('a second run reuses everything and moves the node to the new daemon port', async () => {
    const stack = await startUp({ dataDir: data, extraArgs: ['--log-level', 'info'] });
    try {
      const info = stack.info;
      assert.equal(info.first_run, false);
      assert.equal(info.api_key, firstInfo.api_key);
      assert.equal(info.admin_password, firstInfo.admin_password);
      assert.equal(info.node_uuid, firstInfo.node_uuid);
      assert.equal(info.server_uuid, firstInfo.server_uuid);
      assert.ok((await socketUrl(info)).startsWith(info.daemon_url.replace('http', 'ws')), 'node URL follows the daemon');

      // --log-level reaches both services: JSON lines, requests carrying their id.
      const logs = stack.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(logs.some((l) => l.component === 'panel' && typeof l.reqId === 'string'), 'panel request logs with request ids');
      assert.ok(logs.some((l) => l.component === 'daemon'), 'daemon logs');
      assert.ok(!stack.stderr().includes(info.api_key), 'the API key never reaches the logs');

      const users = await runCli(['admin', 'user', 'list', '--data', data, '--json']);
      assert.equal(users.code, 0, users.stderr);
      assert.equal(JSON.stringify(json(users)).split('admin@backwing.local').length - 1, 1, 'exactly one admin user');
    } finally {
      assert.equal(await stack.stop(), 0, stack.stderr());
    }
  });

  test('backwing admin works on the same --data while up runs', async () => {
    // Deleting the password file is how a forgotten admin password is reset.
    await unlink(join(data, 'admin-password.txt'));
    const stack = await startUp({ dataDir: data });
    try {
      assert.notEqual(stack.info.admin_password, firstInfo.admin_password);
      const signIn = async (password: string) =>
        (await fetch(`${stack.info.panel_url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@backwing.local', password }) })).status;
      assert.equal(await signIn(stack.info.admin_password), 200);
      assert.equal(await signIn(firstInfo.admin_password), 401);

      const created = await runCli(['admin', 'server', 'create', '--data', data, '--name', 'Second', '--owner', 'admin@backwing.local', '--node', 'local', '--backup-limit', '1', '--json']);
      assert.equal(created.code, 0, created.stderr);
      const server = json<{ identifier?: string; attributes?: { identifier: string } }>(created);
      const id = server.identifier ?? server.attributes?.identifier;
      assert.ok(id, created.stdout);
      const env = { BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key };
      const ok = await runCli(['backups', 'create', id, '--wait', '--poll', '0.5'], { env });
      assert.equal(ok.code, 0, ok.stderr);
      const limited = await runCli(['backups', 'create', id], { env });
      assert.equal(limited.code, 1);
      assert.match(oneLine(limited), /limit/);

      // But a second `up` on the same data would run a second daemon over the same files: refused.
      const twice = await runCli(['up', '--data', data, '--panel-port', '0', '--daemon-port', '0']);
      assert.equal(twice.code, 1);
      assert.match(oneLine(twice), new RegExp(`another backwing up \\(pid ${stack.child.pid}\\) is already using`));
    } finally {
      assert.equal(await stack.stop(), 0, stack.stderr());
    }
  });

  test('live progress over the websocket, then Ctrl-C during a backup ends it honestly', async () => {
    // Slow the daemon down (1 MiB/s) and give it something to chew on, so the job is still
    // running when we look; up keeps hand-edited keys of the daemon config.
    const cfgPath = join(data, 'daemon', 'config.yml');
    const cfg = parse(await readFile(cfgPath, 'utf8')) as { system: { backups: Record<string, unknown> } };
    cfg.system.backups.write_limit = 1;
    await writeFile(cfgPath, stringify(cfg));
    await writeFile(join(data, 'volumes', firstInfo.server_uuid, 'world', 'big.bin'), randomBytes(3 * 1024 * 1024));

    let stack = await startUp({ dataDir: data });
    const api = new PanelApi({ url: stack.info.panel_url, key: stack.info.api_key });
    const S = stack.info.server_identifier;
    let interrupted: string;
    try {
      const followed = await api.createBackup(S, { name: 'followed' });
      const seen: Array<[number, number | null]> = [];
      const result = await followJob({ api, server: S, backup: followed.uuid, kind: 'backup', pollIntervalMs: 500, timeoutMs: 60_000, onProgress: (d, t) => seen.push([d, t]) });
      assert.equal(result.successful, true);
      assert.equal(result.via, 'websocket');
      assert.ok(seen.length > 0, 'progress events arrived from the daemon websocket');
      assert.ok(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0]), 'progress never goes backwards');

      interrupted = (await api.createBackup(S, { name: 'interrupted' })).uuid;
      await new Promise((r) => setTimeout(r, 800));
      assert.equal((await api.getBackup(S, interrupted)).completed_at, null, 'still running when Ctrl-C comes');
    } catch (err) {
      await stack.stop();
      throw err;
    }
    assert.equal(await stack.stop(), 0, stack.stderr());
    const leftovers = (await readdir(join(data, 'backups'))).filter((f) => f.includes(interrupted) || /\.tmp|\.part/.test(f));
    assert.deepEqual(leftovers, [], 'no half-written archive left behind');

    stack = await startUp({ dataDir: data });
    try {
      const api2 = new PanelApi({ url: stack.info.panel_url, key: stack.info.api_key });
      let b = await api2.getBackup(S, interrupted);
      for (let i = 0; i < 40 && b.completed_at === null; i++) {
        await new Promise((r) => setTimeout(r, 250));
        b = await api2.getBackup(S, interrupted);
      }
      assert.notEqual(b.completed_at, null, 'the interrupted backup is recorded as ended');
      assert.equal(b.is_successful, false, 'and as failed, not silently successful');
      assert.ok((await api2.listBackups(S)).backups.some((x) => x.name === 'followed' && x.is_successful));
    } finally {
      assert.equal(await stack.stop(), 0, stack.stderr());
    }
  });

  test('start-up problems are one clear line and a non-zero exit', async () => {
    // A taken port.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['up', '--data', join(dir, 'other'), '--panel-port', String(port), '--daemon-port', '0']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r), new RegExp(`port ${port} is already in use \\(--panel-port\\)`));
      const d = await runCli(['up', '--data', join(dir, 'other'), '--panel-port', '0', '--daemon-port', String(port)]);
      assert.equal(d.code, 1);
      assert.match(oneLine(d), /already in use \(--daemon-port\)/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }

    // A data directory that cannot be created (a file is in the way; root ignores permissions).
    await writeFile(join(dir, 'a-file'), 'x');
    const unwritable = await runCli(['up', '--data', join(dir, 'a-file', 'data'), '--panel-port', '0', '--daemon-port', '0']);
    assert.equal(unwritable.code, 1);
    assert.match(oneLine(unwritable), /data directory .* is not writable/);

    // A broken daemon config.
    const broken = join(dir, 'broken');
    await mkdir(join(broken, 'daemon'), { recursive: true });
    await writeFile(join(broken, 'daemon', 'config.yml'), 'uuid: [unclosed\n  token: : :\n');
    const bad = await runCli(['up', '--data', broken, '--panel-port', '0', '--daemon-port', '0']);
    assert.equal(bad.code, 1);
    assert.match(oneLine(bad), /config\.yml: not valid YAML/);

    // Valid YAML, invalid value: the daemon's own message, naming the key.
    const cfg = parse(await readFile(join(data, 'daemon', 'config.yml'), 'utf8')) as { system: { backups: Record<string, unknown> } };
    cfg.system.backups.checksum = 'md5';
    const wrong = join(dir, 'wrong');
    await mkdir(join(wrong, 'daemon'), { recursive: true });
    await writeFile(join(wrong, 'daemon', 'config.yml'), stringify(cfg));
    const badValue = await runCli(['up', '--data', wrong, '--panel-port', '0', '--daemon-port', '0']);
    assert.equal(badValue.code, 1);
    assert.match(oneLine(badValue), /config\.yml: system\.backups\.checksum must be sha256 or sha1/);

    // A broken panel setting from the environment.
    const badEnv = await runCli(['up', '--data', join(dir, 'env'), '--panel-port', '0', '--daemon-port', '0'], { env: { BACKUP_THROTTLE_LIMIT: 'lots' } });
    assert.equal(badEnv.code, 1);
    assert.match(oneLine(badEnv), /BACKUP_THROTTLE_LIMIT must be an integer/);

    const badPort = await runCli(['up', '--panel-port', 'eighty']);
    assert.equal(badPort.code, 1);
    assert.match(badPort.stderr, /--panel-port must be a port number/);
  });

  test('human mode: the banner has the URL, the key, and three curl lines that work when pasted', async () => {
    const hdata = join(dir, 'human');
    // A lock left by a process that is gone (kill -9) does not block the next start.
    await mkdir(hdata, { recursive: true });
    await writeFile(join(hdata, 'up.pid'), '2147483646\n');
    const stack = await startUp({ dataDir: hdata, human: true });
    try {
      const banner = stack.stdout();
      const key = (await readFile(join(hdata, 'api-key.txt'), 'utf8')).trim();
      const password = (await readFile(join(hdata, 'admin-password.txt'), 'utf8')).trim();
      assert.match(banner, /^ {2}panel {5}http:\/\/127\.0\.0\.1:\d+/m);
      assert.ok(banner.includes(key), 'the key is printed');
      assert.ok(banner.includes(password), 'the first run prints the admin password');
      const curls = banner.split('\n').filter((l) => l.trim().startsWith('curl '));
      assert.equal(curls.length, 3, banner);
      const sh = (line: string, env: Record<string, string> = {}) =>
        execFileSync('bash', ['-c', line], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

      assert.equal((JSON.parse(sh(curls[0]!)) as { object: string }).object, 'list');
      const created = JSON.parse(sh(curls[1]!)) as { attributes: { uuid: string } };
      const server = /servers\/([0-9a-f]{8})\//.exec(curls[0]!)![1]!;
      const panelUrl = /(http:\/\/127\.0\.0\.1:\d+)\/api/.exec(curls[0]!)![1]!;
      const api = new PanelApi({ url: panelUrl, key });
      await followJob({ api, server, backup: created.attributes.uuid, kind: 'backup', pollIntervalMs: 300, timeoutMs: 60_000 });
      sh(curls[2]!, { BACKUP: created.attributes.uuid });
      const listing = execFileSync('tar', ['-tzf', join(dir, 'backup.tar.gz')], { encoding: 'utf8' });
      assert.match(listing, /server\.properties/);
      // The CLI lines, pasted into a shell in another folder where none of the CLI's defaults hold
      // (random port, --data elsewhere, no ./data/api-key.txt): they work as printed.
      const cliLines = banner.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('export BACKWING_') || /^node \S*backwing\.js backups /.test(l));
      assert.equal(cliLines.length, 4, banner);
      const out = sh(cliLines.join('\n'), { BACKWING_URL: '', BACKWING_API_KEY: '', NO_PROGRESS: '1' });
      assert.match(out, /completed/, out);
    } finally {
      assert.equal(await stack.stop(), 0, stack.stderr());
    }
    assert.match(stack.stderr(), /SIGINT: stopping.*\n(.*\n)*stopped/);
    assert.equal(existsSync(join(hdata, 'up.pid')), false, 'the lock goes with the process');
  });

  test('up --help documents the flags', async () => {
    const r = await runCli(['up', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--data', '--panel-port', '--daemon-port', '--json', '--log-level']) assert.match(r.stdout, new RegExp(flag));
  });
});
