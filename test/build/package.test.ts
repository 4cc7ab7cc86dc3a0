/**
 * The production install, as a host does it: `npm pack`, then `npm install -g --omit=dev` of the
 * tarball into an empty prefix. The installed `backwing up` serves the web UI, makes a backup that
 * the installed CLI downloads, and the installed tree holds no TypeScript loader or build tool.
 *
 * The pack runs in a copy of the working tree (node_modules linked), so its `prepare` build never
 * rewrites this checkout's dist/ or src/web/dist/ while other tests run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO, startUp, type RunningStack } from '../cli/support/stack.ts';

let tmp: string;
let prefix: string;
let installed: string;

/** npm started by `npm test` exports npm_* settings; the inner npm must see a host's plain environment. */
function hostEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'BACKWING_FROM_SOURCE' && k !== 'INIT_CWD'));
}

function copyWorkingTree(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(REPO, f))) continue; // deleted but not yet committed
    mkdirSync(dirname(join(to, f)), { recursive: true });
    copyFileSync(join(REPO, f), join(to, f));
  }
  symlinkSync(join(REPO, 'node_modules'), join(to, 'node_modules'), 'dir');
}

function packageNames(dir: string): string[] {
  const out: string[] = [];
  const walk = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const name of readdirSync(nm)) {
      if (name.startsWith('.')) continue;
      const entries = name.startsWith('@') ? readdirSync(join(nm, name)).map((n) => `${name}/${n}`) : [name];
      for (const e of entries) {
        out.push(e);
        walk(join(nm, e, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return out;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bw-package-'));
  const work = join(tmp, 'src');
  copyWorkingTree(work);
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: work, env: hostEnv(), encoding: 'utf8' }).trim().split('\n').pop()!;
  prefix = join(tmp, 'prefix');
  mkdirSync(prefix);
  // --ignore-scripts: better-sqlite3 (the only production dependency with an install script) would
  // otherwise compile SQLite for ~55 s; its binary is taken from this checkout's identical build
  // below. --prefer-offline: packages come from npm's cache when it has them.
  execFileSync('npm', ['install', '-g', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, join(tmp, tgz)], { env: hostEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  installed = join(prefix, 'lib', 'node_modules', 'backwing');
  const native = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(dirname(join(installed, native)), { recursive: true });
  copyFileSync(join(REPO, native), join(installed, native));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('the installed package is compiled JavaScript with the web UI, and no TypeScript loader or build tool', () => {
  assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')), 'dist/ is in the package');
  assert.ok(existsSync(join(installed, 'src', 'web', 'dist', 'index.html')), 'the built web UI is in the package');
  assert.equal(existsSync(join(installed, 'src', 'cli')), false, 'no TypeScript sources');
  const names = packageNames(installed);
  assert.ok(names.includes('fastify'), `production dependencies are installed (${names.length})`);
  for (const dev of ['tsx', 'esbuild', 'typescript', 'vite', 'react']) assert.ok(!names.includes(dev), `${dev} is not installed`);
});

test('installed `backwing up` serves the UI; a backup is created and downloaded with the installed CLI', async () => {
  const bin = join(prefix, 'bin', 'backwing');
  const env = hostEnv();
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(execFileSync(bin, ['--version'], { env, encoding: 'utf8' }).trim(), version);
  const data = join(tmp, 'data');
  const saved = process.env.BACKWING_FROM_SOURCE;
  delete process.env.BACKWING_FROM_SOURCE; // startUp passes process.env on; the installed bin would ignore it anyway
  let stack: RunningStack;
  try {
    stack = await startUp({ dataDir: data, cwd: tmp, command: [bin, 'up'], timeoutMs: 60_000 });
  } finally {
    if (saved !== undefined) process.env.BACKWING_FROM_SOURCE = saved;
  }
  try {
    const page = await fetch(`${stack.info.panel_url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">/);

    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(bin, args, { cwd: tmp, env: { ...env, BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key, BACKUP_THROTTLE_PERIOD: '0' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const S = stack.info.server_identifier;
    const created = await run(['backups', 'create', S, '--name', 'from the package', '--wait', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const backup = JSON.parse(created.stdout) as { uuid: string; is_successful: boolean };
    assert.equal(backup.is_successful, true);
    const file = join(tmp, 'backup.tar.gz');
    const dl = await run(['backups', 'download', S, backup.uuid, '-o', file]);
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }), /server\.properties/);
  } finally {
    assert.equal(await stack.stop(), 0, stack.stderr());
  }
});
