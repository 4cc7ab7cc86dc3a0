/**
 * `npm run bench:load`: the client API's backup list and create routes under load, on SQLite and
 * on PostgreSQL, beside a bare Fastify route measured in the same run (docs/benchmarks.md).
 *
 * Each database is seeded with LOAD_SERVERS servers × LOAD_BACKUPS_PER_SERVER completed backups
 * (default 1,000 × 10), the panel runs as a real `backwing panel` child process, and autocannon
 * drives LOAD_CONNECTIONS (default 50) connections for LOAD_SECONDS (default 10) per route, each
 * request on a different server. Creates go to a stand-in daemon that accepts at once (the daemon's
 * own work is not what this measures). The client API rate limit stays on (set high), counted in
 * the database as in production (a busy key in leases: services/rate-limiter.ts).
 *
 * Bar (issue 15): the list route reaches at least 30 % of the bare route's throughput.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadPanelConfig } from '../src/panel/config.ts';
import { openPanelContext } from '../src/panel/context.ts';
import { freshPostgresUrl } from '../test/support/postgres.ts';
import { TEST_APP_KEY } from '../test/support/app-key.ts';
import { fsType } from './measure.ts';
import { seedPanel } from './load/seed.ts';

const SERVERS = Number(process.env.LOAD_SERVERS ?? 1000);
const PER_SERVER = Number(process.env.LOAD_BACKUPS_PER_SERVER ?? 10);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);
/** `sqlite`, `postgres` or both (comma-separated). */
const DATABASES = (process.env.LOAD_DATABASES ?? 'sqlite,postgres').split(',');
/** `list`, `create`, `list-uncached` (the list with BACKUP_LIST_CACHE_ENTRIES=0, another panel process), comma-separated: the panel routes measured. */
const ROUTES = (process.env.LOAD_ROUTES ?? 'list,create').split(',');
/** Set: the panel process writes a V8 CPU profile there (`--cpu-prof`), to see where a route spends its time. */
const PROFILE_DIR = process.env.LOAD_PROFILE_DIR;
const BIN = fileURLToPath(new URL('../bin/backwing.js', import.meta.url));
// The panel runs compiled, as in production: dist/ is rebuilt from the current sources first (never
// stale). Through tsx instead, every request pays for source-mapped stacks and loader hooks.
if (process.env.LOAD_FROM_SOURCE !== '1' && spawnSync('npm', ['run', '--silent', 'build:server'], { stdio: 'inherit' }).status !== 0) {
  throw new Error('npm run build:server failed');
}
const BARE = fileURLToPath(new URL('./load/bare-fastify.ts', import.meta.url));

interface Row { database: string; route: string; rps: number; p50: number; p99: number; non2xx: number; errors: number; cpuUs: number }

/**
 * CPU time (user + system) a process has used, from /proc. On a shared, loaded machine throughput
 * mostly measures the neighbours; CPU time per request is what the server itself spends.
 */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name).
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

function startChild(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function run(name: string, server: ChildProcess, opts: autocannon.Options): Promise<autocannon.Result & { cpuUs: number }> {
  process.stderr.write(`  ${name} …\n`);
  const before = cpuMicros(server.pid!);
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  return { ...r, cpuUs: (cpuMicros(server.pid!) - before) / Math.max(1, r.requests.total) };
}

function row(database: string, route: string, r: autocannon.Result & { cpuUs: number }): Row {
  return { database, route, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, cpuUs: r.cpuUs };
}

/** A daemon stand-in: accepts every call at once. */
async function startAcceptingDaemon(): Promise<{ url: string; close(): void }> {
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.statusCode = 204; res.end(); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => srv.close() };
}

async function benchDatabase(database: string, databaseUrl: string, daemonUrl: string, bare: { child: ChildProcess; url: string }): Promise<Row[]> {
  const env = {
    BACKWING_FROM_SOURCE: process.env.LOAD_FROM_SOURCE === '1' ? '1' : '0',
    DATABASE_URL: databaseUrl, APP_KEY: TEST_APP_KEY, APP_URL: 'http://127.0.0.1:8000', PANEL_WEB_DIST: '/nonexistent',
    APP_API_CLIENT_RATELIMIT: process.env.LOAD_CLIENT_RATELIMIT ?? '1000000000', BACKUP_THROTTLE_PERIOD: '0', BACKUP_PRUNE_AGE: '0', RECONCILE_INTERVAL: '0',
  };
  process.stderr.write(`${database}: seeding ${SERVERS} servers × ${PER_SERVER} backups …\n`);
  const ctx = await openPanelContext(loadPanelConfig(env));
  const t0 = performance.now();
  const seeded = await seedPanel(ctx, { servers: SERVERS, backupsPerServer: PER_SERVER, daemonUrl });
  process.stderr.write(`  seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  await ctx.close();

  const panel = await startChild([...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), BIN, 'panel', '--port', '0', '--log-level', 'warn'], env);
  const rows: Row[] = [];
  try {
    const headers = { authorization: `Bearer ${seeded.clientKey}`, accept: 'application/json', 'content-type': 'application/json' };
    let i = 0;
    const next = () => seeded.identifiers[i++ % seeded.identifiers.length]!;
    // Each process is warmed up right before it is measured (JIT, connection pool, SQLite page
    // cache). Not earlier: a panel left idle for 20 s returns to its small heap strategy
    // (core/heap-footprint.ts), and its first seconds of work after that cost more (docs/benchmarks.md).
    await run('warm-up (bare)', bare.child, { url: `${bare.url}/bare`, duration: 2 });
    rows.push(row(database, 'bare Fastify GET', await run('bare', bare.child, { url: `${bare.url}/bare` })));
    // Reference only (the bar is the route above): a constant of the list's size, no work behind it.
    rows.push(row(database, 'bare Fastify GET, list-sized JSON', await run('bare page', bare.child, { url: `${bare.url}/bare-page` })));
    await run('warm-up', panel.child, { url: panel.url, duration: 3, requests: [{ method: 'GET', headers, setupRequest: (r) => ({ ...r, path: `/api/client/servers/${next()}/backups` }) }] });
    if (ROUTES.includes('list')) {
      rows.push(row(database, 'GET …/backups (list)', await run('list', panel.child, {
        url: panel.url, requests: [{ method: 'GET', headers, setupRequest: (r) => ({ ...r, path: `/api/client/servers/${next()}/backups` }) }],
      })));
    }
    if (ROUTES.includes('create')) {
      rows.push(row(database, 'POST …/backups (create)', await run('create', panel.child, {
        url: panel.url, requests: [{ method: 'POST', headers, body: JSON.stringify({ name: 'load' }), setupRequest: (r) => ({ ...r, path: `/api/client/servers/${next()}/backups` }) }],
      })));
    }
  } finally {
    await stop(panel.child);
  }
  if (ROUTES.includes('list-uncached')) {
    // The list with no page kept (BACKUP_LIST_CACHE_ENTRIES=0): every request reads its page and totals.
    const cold = await startChild([BIN, 'panel', '--port', '0', '--log-level', 'warn'], { ...env, BACKUP_LIST_CACHE_ENTRIES: '0' });
    try {
      const headers = { authorization: `Bearer ${seeded.clientKey}`, accept: 'application/json' };
      let i = 0;
      const next = () => seeded.identifiers[i++ % seeded.identifiers.length]!;
      const requests = [{ method: 'GET' as const, headers, setupRequest: (r: autocannon.Request) => ({ ...r, path: `/api/client/servers/${next()}/backups` }) }];
      await run('warm-up (no page kept)', cold.child, { url: cold.url, duration: 3, requests });
      rows.push(row(database, 'GET …/backups (list, no page kept)', await run('list, no page kept', cold.child, { url: cold.url, requests })));
    } finally {
      await stop(cold.child);
    }
  }
  return rows;
}

const tmp = mkdtempSync(join(tmpdir(), 'backwing-load-'));
const daemon = await startAcceptingDaemon();
const bare = await startChild(['--import', 'tsx', BARE], {});
const rows: Row[] = [];
try {
  if (DATABASES.includes('sqlite')) rows.push(...await benchDatabase('SQLite', `sqlite:${join(tmp, 'panel.sqlite')}`, daemon.url, bare));
  if (DATABASES.includes('postgres')) rows.push(...await benchDatabase('PostgreSQL', await freshPostgresUrl(), daemon.url, bare));
} finally {
  await stop(bare.child);
  daemon.close();
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
process.stdout.write(`\nload: ${SERVERS} servers × ${PER_SERVER} backups, ${CONNECTIONS} connections, ${SECONDS} s per route; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; SQLite on ${fsType(tmpdir())}\n\n`);
process.stdout.write('| database | route | req/s | p50 ms | p99 ms | non-2xx | errors | vs bare | server CPU µs/req | vs bare (CPU) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
let failed = false;
for (const r of rows) {
  const bareRow = rows.find((b) => b.database === r.database && b.route === 'bare Fastify GET')!;
  const ratio = r.rps / bareRow.rps;
  if (r.route === 'GET …/backups (list)' && ratio < 0.3) failed = true;
  const cpuRatio = bareRow.cpuUs / r.cpuUs;
  process.stdout.write(`| ${r.database} | ${r.route} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${(ratio * 100).toFixed(0)} % | ${fmt(r.cpuUs)} | ${(cpuRatio * 100).toFixed(0)} % |\n`);
}
if (failed) {
  process.stdout.write('\nthe list route is below 30 % of the bare route\n');
  process.exitCode = 1;
}
