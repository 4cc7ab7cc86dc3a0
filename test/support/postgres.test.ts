import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import pg from 'pg';
import { testDatabaseUrls, privateClusterInfo } from './postgres.ts';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

test('testDatabaseUrls gives a fresh SQLite file and a fresh PostgreSQL database per call', { timeout: 120_000 }, async () => {
  const dbs = await testDatabaseUrls();
  assert.deepEqual(dbs.map((d) => d.name), ['sqlite', 'postgres']);

  const [sqliteA, sqliteB] = [await dbs[0]!.url(), await dbs[0]!.url()];
  assert.match(sqliteA, /^sqlite:\/.+panel\.sqlite$/);
  assert.notEqual(sqliteA, sqliteB);

  const pgA = await dbs[1]!.url();
  const pgB = await dbs[1]!.url();
  assert.match(pgA, /^postgres:\/\//);
  assert.notEqual(pgA, pgB);

  const a = new pg.Client({ connectionString: pgA });
  const b = new pg.Client({ connectionString: pgB });
  await a.connect();
  await b.connect();
  try {
    await a.query('CREATE TABLE t (id integer primary key, v text)');
    await a.query(`INSERT INTO t VALUES (1, 'x')`);
    assert.deepEqual((await a.query('SELECT v FROM t')).rows, [{ v: 'x' }]);
    const inB = await b.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 't'`);
    assert.equal(inB.rows[0].n, 0, 'the second database starts empty');
    const settings = await a.query(`SELECT current_setting('fsync') AS fsync`);
    if (!process.env.BACKWING_TEST_POSTGRES_URL) assert.equal(settings.rows[0].fsync, 'off');
  } finally {
    await a.end();
    await b.end();
  }
});

test('the private cluster is stopped and removed when the test process exits', { timeout: 120_000 }, async () => {
  const moduleUrl = new URL('./postgres.ts', import.meta.url).href;
  const script = `const m = await import(${JSON.stringify(moduleUrl)}); await m.freshPostgresUrl(); const i = m.privateClusterInfo(); console.log(JSON.stringify(i));`;
  // Without the external-server variable the child always starts its own private cluster.
  const env = { ...process.env };
  delete env.BACKWING_TEST_POSTGRES_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, err);
  const info = JSON.parse(out.trim()) as { dir: string; port: number };
  assert.ok(info.port > 0);
  assert.equal(existsSync(info.dir), false, 'cluster directory removed');
  assert.equal(await canConnect(info.port), false, 'nothing listens on the cluster port any more');
  assert.equal(privateClusterInfo() === null || privateClusterInfo()!.dir !== info.dir, true);
});

test('with BACKWING_TEST_POSTGRES_URL, databases are made on that server and dropped at exit', { timeout: 120_000 }, async () => {
  // This process's own cluster plays the externally provided server.
  const url = new URL((await (await testDatabaseUrls())[1]!.url()));
  url.pathname = '/postgres';
  const moduleUrl = new URL('./postgres.ts', import.meta.url).href;
  const script = `const m = await import(${JSON.stringify(moduleUrl)}); const a = await m.freshPostgresUrl(); console.log(JSON.stringify({ a, cluster: m.privateClusterInfo() }));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BACKWING_TEST_POSTGRES_URL: url.toString() },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  assert.equal(await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))), 0, err);
  const { a, cluster } = JSON.parse(out.trim()) as { a: string; cluster: unknown };
  assert.equal(cluster, null, 'no private cluster was started');
  const made = new URL(a);
  assert.equal(made.port, url.port, 'the database lives on the given server');
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const r = await admin.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [made.pathname.slice(1)]);
    assert.equal(r.rows[0].n, 0, 'the database was dropped when the test process exited');
  } finally {
    await admin.end();
  }
});
