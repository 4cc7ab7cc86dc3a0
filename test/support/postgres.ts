/**
 * Real databases for tests. PostgreSQL is never mocked and never skipped: either the CI provides
 * a server (BACKWING_TEST_POSTGRES_URL) or this module starts a private throw-away cluster, once
 * per test process, and stops it when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chownSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database on every call. */
  url: () => Promise<string>;
}

const CLUSTER_PREFIX = 'backwing-pg-';
const SQLITE_PREFIX = 'backwing-sqlite-';

interface Cluster {
  dir: string;
  port: number;
  adminUrl: string;
  binDir: string;
}

let clusterPromise: Promise<Cluster> | null = null;
const sqliteDirs: string[] = [];
const externalDatabases: Array<{ adminUrl: string; name: string }> = [];
let exitHookInstalled = false;

/** The newest installed PostgreSQL's bin directory (Debian layout), or a loud error. */
export function findPostgresBinDir(): string {
  const roots = ['/usr/lib/postgresql'];
  const candidates: Array<{ version: number; dir: string }> = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const v of readdirSync(root)) {
      const dir = join(root, v, 'bin');
      if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) candidates.push({ version: Number.parseFloat(v) || 0, dir });
    }
  }
  candidates.sort((a, b) => b.version - a.version);
  const found = candidates[0];
  if (!found) throw new Error('PostgreSQL binaries not found (looked for /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql');
  return found.dir;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** postgres refuses to run as root, so as root every server binary runs as the postgres user. */
function runPg(binDir: string, tool: string, args: string[], opts: { allowFail?: boolean } = {}): { status: number | null; output: string } {
  const cmd = isRoot() ? 'runuser' : join(binDir, tool);
  const argv = isRoot() ? ['-u', 'postgres', '--', join(binDir, tool), ...args] : args;
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${tool} ${args.join(' ')} failed (exit ${r.status}): ${output.trim()}`);
  return { status: r.status, output };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A test process killed with SIGKILL cannot clean up; the next run stops what it left behind. */
function reapAbandonedClusters(binDir: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(CLUSTER_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue; // being created right now by another process, or not ours
    }
    if (!owner || pidAlive(owner)) continue;
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) runPg(binDir, 'pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop'], { allowFail: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

function stopClusterSync(cluster: Cluster): void {
  runPg(cluster.binDir, 'pg_ctl', ['-D', join(cluster.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { allowFail: true });
  rmSync(cluster.dir, { recursive: true, force: true });
}

let startedCluster: Cluster | null = null;

function cleanupSync(): void {
  if (startedCluster) {
    stopClusterSync(startedCluster);
    startedCluster = null;
  }
  for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (externalDatabases.length > 0) {
    // Best effort: the exit hook is synchronous, so psql drops what pg created.
    let psql: string | null = null;
    try {
      psql = join(findPostgresBinDir(), 'psql');
    } catch {
      psql = null;
    }
    for (const db of externalDatabases.splice(0)) {
      if (psql) spawnSync(psql, [db.adminUrl, '-q', '-c', `DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`], { timeout: 15_000, stdio: 'ignore' });
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}

async function startCluster(): Promise<Cluster> {
  const binDir = findPostgresBinDir();
  installExitHook();
  reapAbandonedClusters(binDir);
  const dir = mkdtempSync(join(tmpdir(), CLUSTER_PREFIX));
  const dataDir = join(dir, 'data');
  const sockDir = join(dir, 'sock');
  mkdirSync(sockDir);
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  if (isRoot()) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pgUser.status !== 0) throw new Error('running as root but there is no "postgres" user to run PostgreSQL as: apt-get install postgresql');
    const uid = Number(pgUser.stdout.trim());
    const gid = Number(pgGroup.stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(sockDir, uid, gid);
  }
  const superuser = isRoot() ? 'postgres' : userInfo().username;
  try {
    runPg(binDir, 'initdb', ['-D', dataDir, '-U', superuser, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      const port = await freePort();
      const serverOpts = [
        `-p ${port}`, `-k ${sockDir}`, '-c listen_addresses=127.0.0.1',
        '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200',
      ].join(' ');
      const r = runPg(binDir, 'pg_ctl', ['-D', dataDir, '-o', serverOpts, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', 'start'], { allowFail: true });
      if (r.status === 0) {
        const cluster: Cluster = { dir, port, binDir, adminUrl: `postgres://${superuser}@127.0.0.1:${port}/postgres` };
        startedCluster = cluster;
        return cluster;
      }
      // Another process may have taken the port between our probe and postgres' bind.
      let log = '';
      try { log = readFileSync(join(dir, 'postgres.log'), 'utf8'); } catch { /* no log yet */ }
      lastError = new Error(`pg_ctl start failed: ${r.output.trim()}\n${log.slice(-2000)}`);
      runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop'], { allowFail: true });
    }
    throw lastError;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `bw_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 15_000 });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh PostgreSQL database URL (starting the private cluster on first use). */
export async function freshPostgresUrl(): Promise<string> {
  const external = process.env.BACKWING_TEST_POSTGRES_URL;
  if (external) {
    installExitHook();
    const url = await createDatabase(external);
    externalDatabases.push({ adminUrl: external, name: new URL(url).pathname.slice(1) });
    return url;
  }
  clusterPromise ??= startCluster().catch((err: unknown) => {
    clusterPromise = null;
    throw err;
  });
  const cluster = await clusterPromise;
  return createDatabase(cluster.adminUrl);
}

/** A fresh SQLite file URL in its own temp dir (removed at exit). */
export function freshSqliteUrl(): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), SQLITE_PREFIX));
  sqliteDirs.push(dir);
  return `sqlite:${join(dir, 'panel.sqlite')}`;
}

/** Both databases the panel supports; a suite loops over these to run once per dialect. */
export async function testDatabaseUrls(): Promise<TestDatabase[]> {
  return [
    { name: 'sqlite', url: async () => freshSqliteUrl() },
    { name: 'postgres', url: freshPostgresUrl },
  ];
}

/** For tests of this module: where the private cluster lives, if one was started. */
export function privateClusterInfo(): { dir: string; port: number } | null {
  return startedCluster ? { dir: startedCluster.dir, port: startedCluster.port } : null;
}
