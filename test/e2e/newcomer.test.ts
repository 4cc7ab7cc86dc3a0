/**
 * The newcomer's path, end to end: a fresh copy of the repository (the committed tree, plus the
 * installed node_modules), `npm start`, the printed key used with the CLI to back up, download,
 * check the archive with tar, restore, Ctrl-C, start again and find the backup still there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO, TEST_ENV, startUp, type RunningStack } from '../cli/support/stack.ts';

let tmp: string;
let clone: string;

/**
 * What a clone holds: the committed tree (HEAD), not the working tree, so a file that is used but
 * was never committed fails here as it would for a newcomer. node_modules is linked, never installed.
 */
async function copyCommittedTree(from: string, to: string): Promise<number> {
  await mkdir(to, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', 'HEAD'], { cwd: from, maxBuffer: 512 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', to], { input: tar });
  await symlink(join(from, 'node_modules'), join(to, 'node_modules'), 'dir');
  return execFileSync('git', ['ls-tree', '-r', '--name-only', 'HEAD'], { cwd: from, encoding: 'utf8' }).split('\n').filter(Boolean).length;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(clone, 'bin', 'backwing.js'), ...args], {
      cwd: clone,
      env: { ...process.env, ...TEST_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`backwing ${args.join(' ')} hung; stderr:\n${stderr}`));
    }, 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bw-newcomer-'));
  clone = join(tmp, 'backwing');
  const copied = await copyCommittedTree(REPO, clone);
  assert.ok(copied > 20, `copied ${copied} files`);
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('npm start from a fresh copy → backup, download, tar -tzf, restore, Ctrl-C, start again', async () => {
  const data = join(tmp, 'data');
  const npmStart = ['npm', '--silent', 'start', '--'];
  let stack: RunningStack = await startUp({ dataDir: data, cwd: clone, command: npmStart, group: true, timeoutMs: 90_000 });
  const { info } = stack;
  const env = { BACKWING_URL: info.panel_url, BACKWING_API_KEY: info.api_key };
  const S = info.server_identifier;
  let backupUuid: string;
  try {
    const created = await cli(['backups', 'create', S, '--name', 'newcomer', '--wait', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const b = JSON.parse(created.stdout) as { uuid: string; is_successful: boolean; sha256_hash: string };
    assert.equal(b.is_successful, true);
    backupUuid = b.uuid;

    const file = join(tmp, 'newcomer.tar.gz');
    const dl = await cli(['backups', 'download', S, b.uuid, '-o', file], env);
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(dl.stdout, /verified/);
    const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' });
    for (const p of ['server.properties', 'world/level.dat', 'logs/latest.log', '.pteroignore']) {
      assert.match(listing, new RegExp(`^(\\./)?${p.replace(/\./g, '\\.')}$`, 'm'), `${p} in the archive`);
    }
    assert.doesNotMatch(listing, /cache\//, '.pteroignore was honoured');

    // Lose a file, restore (merge mode), get it back.
    const vol = join(data, 'volumes', info.server_uuid);
    const before = await readFile(join(vol, 'world', 'level.dat'));
    await unlink(join(vol, 'world', 'level.dat'));
    await writeFile(join(vol, 'server.properties'), 'overwritten by mistake\n');
    const restored = await cli(['backups', 'restore', S, b.uuid, '--wait'], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok((await readFile(join(vol, 'world', 'level.dat'))).equals(before));
    assert.match(await readFile(join(vol, 'server.properties'), 'utf8'), /motd=/);
  } catch (err) {
    await stack.stop();
    throw err;
  }

  const pid = stack.child.pid!;
  // Ctrl-C in a terminal signals the whole group (npm, sh, backwing). npm itself then exits 130 by
  // its own convention; backwing's own exit code is checked on the direct run below.
  const npmCode = await stack.stop();
  const npmSignal = stack.child.signalCode;
  assert.ok(npmCode === 0 || npmCode === 130 || npmSignal === 'SIGINT', `npm start after Ctrl-C: code ${npmCode}, signal ${npmSignal}; stderr:\n${stack.stderr()}`);
  for (let i = 0; i < 20 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(groupAlive(pid), false, 'no process of the stack is left running');
  // volumes/ is the game server's own files (its sample cache/*.tmp is user data), so not scanned.
  const leftovers = (await walk(data)).filter((p) => !p.startsWith(join(data, 'volumes')) && (/\.tmp|\.part|write-probe|-journal$|up\.pid$/.test(p) || p.includes(`${join('state', 'jobs')}/`) || p.includes(`${join('state', 'outbox')}/`)));
  assert.deepEqual(leftovers.map((p) => relative(data, p)), [], 'no temporary files left after Ctrl-C');

  // Second start the other documented way, `backwing up`, whose own exit code after SIGINT must be 0.
  stack = await startUp({ dataDir: data, cwd: clone, timeoutMs: 90_000 });
  try {
    assert.equal(stack.info.api_key, info.api_key, 'same key on the second start');
    const list = await cli(['backups', 'list', S, '--json'], { BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key });
    assert.equal(list.code, 0, list.stderr);
    const parsed = JSON.parse(list.stdout) as { backups: Array<{ uuid: string; is_successful: boolean }> };
    assert.deepEqual(parsed.backups.map((x) => [x.uuid, x.is_successful]), [[backupUuid, true]]);
  } finally {
    assert.equal(await stack.stop(), 0, `backwing up exit code after SIGINT; stderr:\n${stack.stderr()}`);
  }
});
