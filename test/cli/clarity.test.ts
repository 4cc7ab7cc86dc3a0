/**
 * The CLI's manners: destructive commands ask on a terminal (a real pty via script(1)), --yes
 * skips the question, pipes run as before; `cancel` stops a running backup; downloads are named
 * after the backup; `up --data /proc/nope` fails at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN, TEST_ENV, json, runCli, startUp, type CliResult, type RunningStack } from './support/stack.ts';

interface Backup { uuid: string; name: string; completed_at: string | null; is_successful: boolean }

/** Runs the CLI on a pseudo-terminal (script(1)), typing `answer` when it asks. */
function onTerminal(args: string[], answer: string, env: Record<string, string>, cwd: string): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, ...TEST_ENV, ...env, NO_PROGRESS: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let asked = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!asked && /\[y\/N\]/.test(stdout)) {
        asked = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr: '' }));
  });
}

describe('backwing backups: prompts, cancel, names', () => {
  let dir: string;
  let stack: RunningStack;
  let S: string;
  let env: Record<string, string>;
  const cli = (args: string[]) => runCli(['backups', ...args], { cwd: dir, env });
  const waitDone = async (uuid: string): Promise<Backup> => {
    for (let i = 0; i < 300; i++) {
      const b = json<Backup>(await cli(['show', S, uuid, '--json']));
      if (b.completed_at !== null) return b;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('backup did not finish');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-cli-clarity-'));
    const data = join(dir, 'data');
    const first = await startUp({ dataDir: data });
    await first.stop();
    // 2 MiB/s, so a backup runs long enough to cancel.
    const cfgFile = join(data, 'daemon', 'config.yml');
    const cfg = parse(await readFile(cfgFile, 'utf8')) as { system: { backups: Record<string, unknown> } };
    cfg.system.backups.write_limit = 2;
    await writeFile(cfgFile, stringify(cfg));
    stack = await startUp({ dataDir: data });
    S = stack.info.server_identifier;
    env = { BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key };
  });

  after(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('download is saved as <name>-<short uuid>.tar.gz with safe characters', async () => {
    const b = json<Backup>(await cli(['create', S, '--name', 'Nightly: world/1', '--wait', '--json']));
    const r = await cli(['download', S, b.uuid]);
    assert.equal(r.code, 0, r.stderr);
    const expected = `Nightly-world-1-${b.uuid.slice(0, 8)}.tar.gz`;
    assert.ok(existsSync(join(dir, expected)), `${expected} in ${(await readdir(dir)).join(', ')}`);
    assert.match(r.stdout, new RegExp(expected.replace(/\./g, '\\.')));
  });

  test('delete asks on a terminal: "n" keeps the backup, --yes skips the question, a pipe does not ask', async () => {
    const b = json<Backup>(await cli(['create', S, '--name', 'ask me', '--wait', '--json']));
    const no = await onTerminal(['backups', 'delete', S, b.uuid], 'n', env, dir);
    assert.match(no.stdout, /Delete backup "ask me" \([0-9a-f-]+\)\? This cannot be undone\. \[y\/N\]/);
    assert.match(no.stdout, /not confirmed; nothing was changed/);
    assert.notEqual(no.code, 0);
    assert.equal((await cli(['show', S, b.uuid])).code, 0, 'still there');

    const yes = await onTerminal(['backups', 'delete', S, b.uuid], 'y', env, dir);
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /deleted/);

    const c = json<Backup>(await cli(['create', S, '--name', 'skip the question', '--wait', '--json']));
    const skipped = await onTerminal(['backups', 'delete', S, c.uuid, '--yes'], 'n', env, dir);
    assert.equal(skipped.code, 0, skipped.stdout);
    assert.doesNotMatch(skipped.stdout, /\[y\/N\]/);

    const d = json<Backup>(await cli(['create', S, '--name', 'scripted', '--wait', '--json']));
    const piped = await cli(['delete', S, d.uuid]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '', 'no question without a terminal');
  });

  test('restore --truncate asks on a terminal; a plain "enter" means no', async () => {
    const b = json<Backup>(await cli(['create', S, '--name', 'restore source', '--wait', '--json']));
    const no = await onTerminal(['backups', 'restore', S, b.uuid, '--truncate'], '', env, dir);
    assert.match(no.stdout, /Delete every file of server \w+, then restore "restore source" into it\? \[y\/N\]/);
    assert.notEqual(no.code, 0);
    // Every backup route answers 409 while a restore runs: a listing that works proves none started.
    assert.equal((await cli(['list', S])).code, 0);
  });

  test('cancel stops a running backup; it ends failed and its partial archive is gone', async () => {
    await writeFile(join(stack.info.data_dir, 'volumes', stack.info.server_uuid, 'big.bin'), randomBytes(24 * 1024 * 1024));
    const b = json<Backup>(await cli(['create', S, '--name', 'to stop', '--json']));
    const r = await cli(['cancel', S, b.uuid, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cancelled; its partial archive was removed/);
    const done = await waitDone(b.uuid);
    assert.equal(done.is_successful, false);
    const leftovers = (await readdir(join(stack.info.data_dir, 'backups'))).filter((n) => n.includes(b.uuid));
    assert.deepEqual(leftovers, []);
    const show = await cli(['show', S, b.uuid]);
    assert.match(show.stdout, /^why +cancelled$/m, 'show says why it failed');
    assert.equal(json<{ failure_reason: string }>(await cli(['show', S, b.uuid, '--json'])).failure_reason, 'cancelled');
    const again = await cli(['cancel', S, b.uuid, '--yes']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not running \(it failed\); nothing to cancel/);
  });
});

test('up --data /proc/nope fails at once with one clear line', async () => {
  const started = Date.now();
  const r = await runCli(['up', '--data', '/proc/nope', '--panel-port', '0', '--daemon-port', '0'], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^backwing: data directory \/proc\/nope is not writable \(\w+\); pick another with --data\n$/);
  assert.ok(Date.now() - started < 15_000);
});
