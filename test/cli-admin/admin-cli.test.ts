/**
 * `backwing admin ...` as scripts use it: the real binary in child processes, against a temp
 * `--data` dir (SQLite) and against PostgreSQL through DATABASE_URL.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { parseDaemonConfig } from '../../src/daemon/config.ts';
import { freshPostgresUrl } from '../support/postgres.ts';
import { runCli, jsonOf } from './cli-runner.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function oneErrorLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected failure, got exit 0: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one error line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^backwing: /);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '', 'nothing on stdout for a failed command');
}

describe('admin CLI with --data (SQLite)', () => {
  let dir: string;
  const env = { APP_URL: 'http://panel.example.test:8080', DATABASE_URL: '' };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'backwing-admin-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('user create: JSON out, duplicate email and short password fail with one line', { timeout: 120_000 }, async () => {
    const created = jsonOf(await runCli(['admin', 'user', 'create', '--data', dir, '--email', 'Admin@Example.test', '--password', 'correct horse', '--admin', '--json'], { env }));
    assert.equal(created.email, 'admin@example.test');
    assert.equal(created.root_admin, true);
    assert.match(String(created.uuid), /^[0-9a-f-]{36}$/);

    oneErrorLine(await runCli(['admin', 'user', 'create', '--data', dir, '--email', 'admin@example.test', '--password', 'another pass'], { env }), /user create: The email has already been taken\./);
    oneErrorLine(await runCli(['admin', 'user', 'create', '--data', dir, '--email', 'short@example.test', '--password', 'x'], { env }), /at least 8 characters/);

    const viaStdin = jsonOf(await runCli(['admin', 'user', 'create', '--data', dir, '--email', 'player@example.test', '--password-stdin', '--json'], { env, input: 'from stdin pw\n' }));
    assert.equal(viaStdin.root_admin, false);

    const text = await runCli(['admin', 'user', 'list', '--data', dir], { env });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /admin@example\.test\t[0-9a-f-]{36}\tadmin/);
    assert.match(text.stdout, /player@example\.test/);
    // Options may also come before the subcommand.
    const global = jsonOf(await runCli(['admin', '--data', dir, '--json', 'user', 'list'], { env }));
    assert.deepEqual((global.users as Array<{ email: string }>).map((u) => u.email), ['admin@example.test', 'player@example.test']);
  });

  test('key create: client and application keys, printed once; application only for admins', { timeout: 120_000 }, async () => {
    const client = jsonOf(await runCli(['admin', 'key', 'create', '--data', dir, '--email', 'player@example.test', '--json'], { env }));
    assert.match(String(client.key), /^ptlc_[A-Za-z0-9]{43}$/);
    assert.equal(client.type, 'client');
    assert.ok(String(client.key).startsWith(String(client.identifier)));

    const app = jsonOf(await runCli(['admin', 'key', 'create', '--data', dir, '--email', 'admin@example.test', '--application', '--memo', 'provisioning', '--json'], { env }));
    assert.match(String(app.key), /^ptla_[A-Za-z0-9]{43}$/);
    assert.equal(app.memo, 'provisioning');

    oneErrorLine(await runCli(['admin', 'key', 'create', '--data', dir, '--email', 'player@example.test', '--application'], { env }), /not a root admin/);
    oneErrorLine(await runCli(['admin', 'key', 'create', '--data', dir, '--email', 'nobody@example.test'], { env }), /no user with email nobody@example\.test/);

    // Only the hash is stored: the secret half of the key is nowhere in the database file.
    const dbBytes = readFileSync(join(dir, 'panel.sqlite'));
    const secret = String(client.key).slice(16);
    assert.equal(dbBytes.includes(Buffer.from(secret)), false);
  });

  test('node create: token and a daemon config the daemon accepts, optionally written 0600', { timeout: 120_000 }, async () => {
    const cfgFile = join(dir, 'node1.yml');
    const node = jsonOf(await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'node-1', '--url', 'http://127.0.0.1:8443/',
      '--data-dir', join(dir, 'volumes'), '--backup-dir', join(dir, 'backups'), '--write-config', cfgFile, '--json'], { env }));
    assert.equal(node.url, 'http://127.0.0.1:8443');
    assert.match(String(node.token_id), /^[A-Za-z0-9]{16}$/);
    assert.match(String(node.token), /^[A-Za-z0-9]{64}$/);

    const parsed = parseDaemonConfig(String(node.daemon_config), 'stdout');
    assert.equal(parsed.uuid, node.uuid);
    assert.equal(parsed.tokenId, node.token_id);
    assert.equal(parsed.token.reveal(), node.token);
    assert.deepEqual(parsed.api, { host: '127.0.0.1', port: 8443 });
    assert.equal(parsed.remote, 'http://panel.example.test:8080');
    assert.equal(parsed.system.data, join(dir, 'volumes'));
    assert.equal(parsed.system.backupDirectory, join(dir, 'backups'));
    assert.equal(readFileSync(cfgFile, 'utf8'), node.daemon_config);
    assert.equal(statSync(cfgFile).mode & 0o777, 0o600);

    const text = await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'node-2', '--url', 'http://node2.example.test:8080', '--panel-url', 'https://panel.other.test/'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^created node node-2 \(uuid [0-9a-f-]{36}\) at http:\/\/node2\.example\.test:8080$/m);
    assert.match(text.stdout, /^token: [A-Za-z0-9]{64}$/m);
    const yaml = text.stdout.slice(text.stdout.indexOf('--- daemon config'));
    const p2 = parseDaemonConfig(yaml.slice(yaml.indexOf('\n') + 1), 'stdout');
    assert.deepEqual(p2.api, { host: '0.0.0.0', port: 8080 }, 'a DNS name listens on all interfaces');
    assert.equal(p2.remote, 'https://panel.other.test');

    oneErrorLine(await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'node-1', '--url', 'http://127.0.0.1:9'], { env }), /node create: a node named "node-1" already exists/);
    oneErrorLine(await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'bad', '--url', 'ftp://x'], { env }), /node create: The url must use http or https/);
  });

  test('node restic: sets the repository with a generated, sealed password that is never printed', { timeout: 120_000 }, async () => {
    // A SQLite panel without APP_KEY seals with the app.key it generated beside its database.
    const set = jsonOf(await runCli(['admin', 'node', 'restic', 'node-1', '--data', dir, '--repository', '/srv/restic-repo', '--json'], { env }));
    assert.equal(set.repository, '/srv/restic-repo');
    assert.equal(set.enabled, true);
    assert.equal(set.has_password, true);
    assert.equal('password' in set, false);
    // Another key cannot open what app.key sealed: the command says so instead of going on.
    const otherKey = `base64:${Buffer.alloc(32, 7).toString('base64')}`;
    oneErrorLine(await runCli(['admin', 'node', 'restic', 'node-1', '--data', dir, '--repository', '/srv/other'], { env: { ...env, APP_KEY: otherKey } }), /neither APP_KEY nor in APP_PREVIOUS_KEYS/);
  });

  test('server create: unknown owner or node, bad limit and an unreachable daemon fail with one line and create nothing', { timeout: 120_000 }, async () => {
    const port = await closedPort();
    jsonOf(await runCli(['admin', 'node', 'create', '--data', dir, '--name', 'offline', '--url', `http://127.0.0.1:${port}`, '--json'], { env }));

    oneErrorLine(await runCli(['admin', 'server', 'create', '--data', dir, '--name', 'mc', '--owner', 'ghost@example.test', '--node', 'offline'], { env }), /no user with email or uuid "ghost@example\.test"/);
    oneErrorLine(await runCli(['admin', 'server', 'create', '--data', dir, '--name', 'mc', '--owner', 'player@example.test', '--node', 'no-such-node'], { env }), /no node with uuid or name "no-such-node"/);
    oneErrorLine(await runCli(['admin', 'server', 'create', '--data', dir, '--name', 'mc', '--owner', 'player@example.test', '--node', 'offline', '--backup-limit', 'many'], { env }), /--backup-limit must be a whole number/);
    oneErrorLine(await runCli(['admin', 'server', 'create', '--data', dir, '--name', 'mc', '--owner', 'player@example.test', '--node', 'offline'], { env }),
      /server create: the daemon of node "offline" \(http:\/\/127\.0\.0\.1:\d+\) did not accept the server, nothing was created: Could not establish a connection/);

    const list = jsonOf(await runCli(['admin', 'server', 'list', '--data', dir, '--json'], { env }));
    assert.deepEqual(list.servers, []);
  });
});

describe('admin CLI with DATABASE_URL (PostgreSQL)', () => {
  test('user, key and node create against PostgreSQL', { timeout: 180_000 }, async () => {
    const env = { DATABASE_URL: await freshPostgresUrl(), APP_URL: 'http://127.0.0.1:18080', APP_KEY: TEST_APP_KEY };
    const u = jsonOf(await runCli(['admin', 'user', 'create', '--email', 'pg@example.test', '--password', 'postgres pw', '--admin', '--json'], { env }));
    assert.equal(u.email, 'pg@example.test');
    oneErrorLine(await runCli(['admin', 'user', 'create', '--email', 'pg@example.test', '--password', 'postgres pw'], { env }), /already been taken/);
    const k = jsonOf(await runCli(['admin', 'key', 'create', '--email', 'pg@example.test', '--application', '--json'], { env }));
    assert.match(String(k.key), /^ptla_/);
    const n = jsonOf(await runCli(['admin', 'node', 'create', '--name', 'pg-node', '--url', 'http://127.0.0.1:8081', '--json'], { env }));
    assert.equal(parseDaemonConfig(String(n.daemon_config), 'stdout').remote, 'http://127.0.0.1:18080');
    const users = jsonOf(await runCli(['admin', 'user', 'list', '--json'], { env }));
    assert.deepEqual((users.users as Array<{ email: string }>).map((x) => x.email), ['pg@example.test']);
  });

  test('an unreachable database is one clear line, not a stack trace', { timeout: 60_000 }, async () => {
    const port = await closedPort();
    const r = await runCli(['admin', 'user', 'list'], { env: { DATABASE_URL: `postgres://u:secretpw@127.0.0.1:${port}/x`, APP_KEY: TEST_APP_KEY } });
    oneErrorLine(r, /user list: cannot open the panel database \(postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/x\)/);
    assert.ok(!r.stderr.includes('secretpw'), 'the password is not printed');
  });
});
