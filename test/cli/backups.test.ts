/**
 * `backwing backups ...` against a real `backwing up` child process: every subcommand, --json
 * shapes, exit codes, error lines, resume, and that nothing draws bars into a pipe.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, TEST_ENV, json, runCli, startUp, type CliResult, type RunningStack } from './support/stack.ts';
import { SAMPLE_BACKED_UP } from '../../src/stack/sample-server.ts';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { PanelApi } from '../../src/cli/client/panel-api.ts';
import { followJob } from '../../src/cli/client/follow.ts';
import { openPanelContext } from '../../src/panel/context.ts';

interface Backup {
  uuid: string;
  name: string;
  is_successful: boolean;
  is_locked: boolean;
  checksum: string | null;
  sha256_hash: string | null;
  bytes: number;
  completed_at: string | null;
  successful?: boolean;
}

function oneLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^backwing: /);
  return lines[0]!;
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

describe('backwing backups against a running stack', () => {
  let dir: string;
  let stack: RunningStack;
  let S: string;
  let cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
  let first: Backup;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-cli-'));
    stack = await startUp({ dataDir: join(dir, 'data') });
    S = stack.info.server_identifier;
    cli = (args, env) => runCli(['backups', ...args], { cwd: dir, env: { BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key, ...env } });
  });

  after(async () => {
    const code = await stack?.stop();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `backwing up exit code; stderr:\n${stack?.stderr()}`);
  });

  test('list on a fresh server: empty, and the --json shape', async () => {
    const r = await cli(['list', S, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(json(r), { backups: [], backup_count: 0 });
    const human = await cli(['list', S]);
    assert.equal(human.stdout.trim(), 'no backups');
  });

  test('create --wait follows the job to a successful end', async () => {
    const r = await cli(['create', S, '--name', 'first', '--wait', '--json', '--poll', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    first = json<Backup>(r);
    assert.equal(first.name, 'first');
    assert.equal(first.successful, true);
    assert.equal(first.is_successful, true);
    assert.ok(first.completed_at);
    assert.match(first.checksum ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok(first.bytes > 0);
    // Not a terminal: no bars, no carriage returns, no colour codes anywhere.
    assert.doesNotMatch(r.stderr + r.stdout, /\r|\u001b\[|█|░/);
  });

  test('list and show print the backup, in text and JSON', async () => {
    const text = await cli(['list', S]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^UUID\s+NAME\s+STATUS\s+SIZE\s+LOCKED\s+CREATED$/m);
    assert.match(text.stdout, new RegExp(`^${first.uuid}\\s+first\\s+ok\\s`, 'm'));
    const list = json<{ backups: Backup[]; backup_count: number }>(await cli(['list', S, '--json']));
    assert.equal(list.backup_count, 1);
    assert.equal(list.backups[0]!.uuid, first.uuid);
    const shown = json<Backup>(await cli(['show', S, first.uuid, '--json']));
    assert.equal(shown.checksum, first.checksum);
    const shownText = await cli(['show', S, first.uuid]);
    assert.match(shownText.stdout, /^status\s+ok$/m);
  });

  test('download saves a verified tar.gz holding exactly the non-ignored files', async () => {
    const out = join(dir, 'first.tar.gz');
    const r = await cli(['download', S, first.uuid, '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = json<{ file: string; bytes: number; sha256: string; resumed_from: number; verified: boolean }>(r);
    assert.equal(res.file, out);
    assert.equal(res.verified, true);
    assert.equal(res.resumed_from, 0);
    const buf = await readFile(out);
    assert.equal(sha256(buf), first.sha256_hash);
    assert.equal(res.bytes, buf.length);
    const listed = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.endsWith('/'));
    assert.deepEqual(listed.map((l) => l.replace(/^\.\//, '')).sort(), [...SAMPLE_BACKED_UP].sort());
    assert.equal(existsSync(`${out}.part`), false);

    const again = await cli(['download', S, first.uuid, '-o', out]);
    assert.equal(again.code, 1);
    assert.match(oneLine(again), /already exists \(use --force/);
  });

  test('download resumes from a .part file left by an interrupted run', async () => {
    const whole = await readFile(join(dir, 'first.tar.gz'));
    const out = join(dir, 'resumed.tar.gz');
    const cut = Math.floor(whole.length / 3);
    await writeFile(`${out}.part`, whole.subarray(0, cut));
    const r = await cli(['download', S, first.uuid, '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = json<{ sha256: string; resumed_from: number }>(r);
    assert.equal(res.resumed_from, cut);
    assert.equal(res.sha256, sha256(whole));
    assert.ok((await readFile(out)).equals(whole));
    assert.equal(existsSync(`${out}.part`), false);

    // Human output says it resumed.
    const out2 = join(dir, 'resumed2.tar.gz');
    await writeFile(`${out2}.part`, whole.subarray(0, 100));
    const text = await cli(['download', S, first.uuid, '-o', out2]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^saved .*resumed2\.tar\.gz \(.*resumed at 100 B; sha256 [0-9a-f]{64} verified\)$/m);
  });

  test('files lists and searches a backup, get fetches one file or a folder, restore --path puts back only that', async () => {
    const top = await cli(['files', S, first.uuid, '--json']);
    assert.equal(top.code, 0, top.stderr);
    const names = json<{ entries: Array<{ name: string; type: string }> }>(top).entries.map((e) => e.name);
    assert.ok(names.includes('world') && names.includes('server.properties'), names.join(','));
    const human = await cli(['files', S, first.uuid, 'world/region']);
    assert.match(human.stdout, /^TYPE\s+SIZE\s+MODIFIED\s+PATH$/m);
    assert.match(human.stdout, /^file\s+512 KiB\s+\S+\s+world\/region\/r\.0\.0\.mca$/m);
    const found = json<{ entries: Array<{ path: string }> }>(await cli(['files', S, first.uuid, '--search', '*.mca', '--json']));
    assert.deepEqual(found.entries.map((e) => e.path).sort(), ['world/region/r.0.-1.mca', 'world/region/r.0.0.mca']);
    const missing = await cli(['files', S, first.uuid, 'nether']);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing), /"nether" is not in this backup/);

    const out = join(dir, 'server.properties.copy');
    const got = await cli(['get', S, first.uuid, 'server.properties', '-o', out]);
    assert.equal(got.code, 0, got.stderr);
    assert.match(await readFile(out, 'utf8'), /motd=A backwing demo server/);
    const folder = await cli(['get', S, first.uuid, 'world', '-o', join(dir, 'world.tar.gz'), '--json']);
    assert.equal(json<{ kind: string }>(folder).kind, 'folder');
    assert.match(execFileSync('tar', ['-tzf', join(dir, 'world.tar.gz')], { encoding: 'utf8' }), /^world\/region\/r\.0\.0\.mca$/m);

    const props = join(stack.info.data_dir, 'volumes', stack.info.server_uuid, 'server.properties');
    const eula = join(stack.info.data_dir, 'volumes', stack.info.server_uuid, 'eula.txt');
    const eulaBefore = await readFile(eula, 'utf8');
    await writeFile(props, 'broken\n');
    await writeFile(eula, 'changed after the backup\n');
    const r = await cli(['restore', S, first.uuid, '--path', 'server.properties', '--wait', '--poll', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await readFile(props, 'utf8'), /motd=A backwing demo server/);
    assert.equal(await readFile(eula, 'utf8'), 'changed after the backup\n', 'outside --path: untouched');
    await writeFile(eula, eulaBefore);
    assert.match(oneLine(await cli(['restore', S, first.uuid, '--path', 'x', '--truncate'])), /never truncates/);
    const same = await cli(['compare', S, first.uuid, first.uuid]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^0 added, 0 removed, 0 changed/m);
  });

  test('download notices a corrupt .part file through the checksum (exit 5)', async () => {
    const whole = await readFile(join(dir, 'first.tar.gz'));
    const out = join(dir, 'corrupt.tar.gz');
    const bad = Buffer.from(whole.subarray(0, 200));
    bad.fill(0x41, 10, 60);
    await writeFile(`${out}.part`, bad);
    const r = await cli(['download', S, first.uuid, '-o', out]);
    assert.equal(r.code, 5);
    assert.match(oneLine(r), /does not match the panel's/);
  });

  test('on a terminal, download draws a progress bar (stderr is a pty)', async () => {
    const out = join(dir, 'tty.tar.gz');
    const cmd = [process.execPath, BIN, 'backups', 'download', S, first.uuid, '-o', out].map((a) => `'${a}'`).join(' ');
    const env = { ...process.env, ...TEST_ENV, BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key };
    const text = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    assert.match(text, /download \[[█░]+\] 100%/);
    assert.match(text, /saved .*tty\.tar\.gz/);
  });

  test('lock blocks delete with a one-line reason; unlock lets it through', async () => {
    const created = json<Backup>(await cli(['create', S, '--name', 'to-delete', '--wait', '--json', '--poll', '0.5']));
    const locked = json<Backup>(await cli(['lock', S, created.uuid, '--json']));
    assert.equal(locked.is_locked, true);
    // lock is idempotent (the API toggles; the CLI does not).
    assert.equal(json<Backup>(await cli(['lock', S, created.uuid, '--json'])).is_locked, true);
    const refused = await cli(['delete', S, created.uuid]);
    assert.equal(refused.code, 1);
    assert.match(oneLine(refused), /locked/i);
    const unlocked = await cli(['unlock', S, created.uuid]);
    assert.equal(unlocked.code, 0);
    assert.match(unlocked.stdout, /unlocked/);
    const deleted = await cli(['delete', S, created.uuid, '--json']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(json(deleted), { deleted: created.uuid });
    const gone = await cli(['show', S, created.uuid]);
    assert.equal(gone.code, 1);
    oneLine(gone);
  });

  test('restore --truncate --wait puts the files back and removes strangers', async () => {
    const vol = join(stack.info.data_dir, 'volumes', stack.info.server_uuid);
    const original = await readFile(join(vol, 'server.properties'));
    await unlink(join(vol, 'server.properties'));
    await writeFile(join(vol, 'stranger.txt'), 'not in the backup');
    const r = await cli(['restore', S, first.uuid, '--truncate', '--wait', '--poll', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`restore of ${first.uuid} completed`));
    assert.ok((await readFile(join(vol, 'server.properties'))).equals(original));
    assert.equal(existsSync(join(vol, 'stranger.txt')), false);
    // The server is usable again right away: the panel has recorded the end of the restore.
    const next = await cli(['list', S, '--json']);
    assert.equal(next.code, 0, next.stderr);
  });

  test('--wait falls back to polling when the daemon websocket cannot be reached', async () => {
    // The panel hands out a socket URL nobody listens on: progress is lost, the outcome is not.
    class NoSocketApi extends PanelApi {
      override async websocketCredentials(): Promise<{ token: string; socket: string }> {
        return { token: 'x', socket: 'ws://127.0.0.1:9/api/servers/x/ws' };
      }
    }
    const api = new NoSocketApi({ url: stack.info.panel_url, key: stack.info.api_key });
    const b = await api.createBackup(S, { name: 'polled', ignored: ['world/region/'] });
    const r = await followJob({ api, server: S, backup: b.uuid, kind: 'backup', pollIntervalMs: 200, timeoutMs: 60_000 });
    assert.equal(r.via, 'poll');
    assert.equal(r.successful, true);
    assert.deepEqual(r.backup.ignored_files, ['world/region/']);
    await api.deleteBackup(S, b.uuid);
  });

  test('create --ignore leaves the pattern out of the archive', async () => {
    const r = await cli(['create', S, '--name', 'slim', '--ignore', 'world/region/', '--ignore', '*.properties', '--wait', '--json', '--poll', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    const b = json<Backup & { ignored_files: string[] }>(r);
    assert.deepEqual(b.ignored_files, ['world/region/', '*.properties']);
    const out = join(dir, 'slim.tar.gz');
    assert.equal((await cli(['download', S, b.uuid, '-o', out])).code, 0);
    const listing = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' });
    assert.match(listing, /world\/level\.dat/);
    assert.doesNotMatch(listing, /region|server\.properties/);
    assert.equal((await cli(['delete', S, b.uuid])).code, 0);
  });

  test('a restore that fails on the daemon exits 3 (corrupt archive), also when only polling', async () => {
    const created = json<Backup>(await cli(['create', S, '--name', 'to-corrupt', '--wait', '--json', '--poll', '0.5']));
    const archive = join(stack.info.data_dir, 'backups', `${created.uuid}.tar.gz`);
    const buf = await readFile(archive);
    buf.fill(0x5a, Math.floor(buf.length / 4), Math.floor(buf.length / 2));
    await writeFile(archive, buf);
    const r = await cli(['restore', S, created.uuid, '--wait', '--poll', '0.5']);
    assert.equal(r.code, 3, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.match(oneLine(r), /restore/);

    // Same failure learned without the websocket: the panel's activity log tells the outcome.
    class NoSocketApi extends PanelApi {
      override async websocketCredentials(): Promise<{ token: string; socket: string }> {
        throw new Error('no websocket');
      }
    }
    const api = new NoSocketApi({ url: stack.info.panel_url, key: stack.info.api_key });
    await api.restoreBackup(S, created.uuid, false);
    const polled = await followJob({ api, server: S, backup: created.uuid, kind: 'restore', pollIntervalMs: 200, timeoutMs: 60_000 });
    assert.equal(polled.via, 'poll');
    assert.equal(polled.successful, false);
    assert.equal((await cli(['delete', S, created.uuid])).code, 0);
  });

  test('verify: exit 0 when good; a damaged archive exits 6 with the reason and stays listed', async () => {
    const created = json<Backup>(await cli(['create', S, '--name', 'to-verify', '--wait', '--json', '--poll', '0.5']));
    const good = await cli(['verify', S, created.uuid]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /is good: read back at /);
    const archive = join(stack.info.data_dir, 'backups', `${created.uuid}.tar.gz`);
    const buf = await readFile(archive);
    // Past the last gzip member's header: a small archive may be a single member.
    buf[buf.length - 6] ^= 0xff;
    await writeFile(archive, buf);
    const bad = await cli(['verify', S, created.uuid, '--json']);
    assert.equal(bad.code, 6, `stdout:\n${bad.stdout}\nstderr:\n${bad.stderr}`);
    assert.match(oneLine(bad), /is damaged: (CRC|length) mismatch/);
    assert.equal(json<{ verification: string }>(bad).verification, 'damaged');
    const shown = await cli(['show', S, created.uuid]);
    assert.match(shown.stdout, /verified +DAMAGED/);
    assert.equal((await cli(['delete', S, created.uuid])).code, 0);
  });

  test('a backup that fails on the daemon exits 3 with the reason', async () => {
    const vol = join(stack.info.data_dir, 'volumes', stack.info.server_uuid);
    const moved = `${vol}.away`;
    await rename(vol, moved);
    try {
      const r = await cli(['create', S, '--name', 'doomed', '--wait', '--poll', '0.5']);
      assert.equal(r.code, 3, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      assert.match(oneLine(r), /failed/);
    } finally {
      await rm(vol, { recursive: true, force: true });
      await rename(moved, vol);
    }
  });

  test('a download killed mid-way (kill -9) resumes where it stopped', async () => {
    const vol = join(stack.info.data_dir, 'volumes', stack.info.server_uuid);
    const big = join(vol, 'world', 'big-region.bin');
    await writeFile(big, randomBytes(48 * 1024 * 1024));
    const b = json<Backup>(await cli(['create', S, '--name', 'big', '--wait', '--json', '--poll', '0.5']));
    await unlink(big);
    try {
      const out = join(dir, 'big.tar.gz');
      const part = `${out}.part`;
      const child = spawn(process.execPath, [BIN, 'backups', 'download', S, b.uuid, '-o', out], {
        cwd: dir,
        env: { ...process.env, ...TEST_ENV, BACKWING_URL: stack.info.panel_url, BACKWING_API_KEY: stack.info.api_key },
        stdio: 'ignore',
      });
      const exited = new Promise((r) => child.once('exit', r));
      // Freeze the process, look at the part file, let it run a moment, repeat: a deterministic
      // way to catch it with some but not all bytes on disk, then kill it hard.
      // The part file appears before the first byte is asked for; until then, just wait.
      const deadline = Date.now() + 60_000;
      while (!existsSync(part) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      let size = 0;
      while (Date.now() < deadline) {
        child.kill('SIGSTOP');
        size = (await stat(part).catch(() => ({ size: 0 }))).size;
        if (size > 0 && size < b.bytes) break;
        assert.ok(!existsSync(out), 'the download finished before it could be interrupted');
        child.kill('SIGCONT');
        // One turn of our event loop: short running windows, whatever the machine's load.
        await new Promise((r) => setImmediate(r));
      }
      child.kill('SIGKILL');
      await exited;
      const kept = (await stat(part)).size;
      assert.ok(kept > 0 && kept < b.bytes, `interrupted with ${kept} of ${b.bytes} bytes`);

      const r = await cli(['download', S, b.uuid, '-o', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const res = json<{ sha256: string; resumed_from: number; verified: boolean }>(r);
      assert.equal(res.resumed_from, kept);
      assert.equal(res.verified, true);
      assert.equal(res.sha256, b.sha256_hash);
    } finally {
      assert.equal((await cli(['delete', S, b.uuid])).code, 0);
    }
  });

  test('bad key: exit 1 and one line that says what to check', async () => {
    const r = await cli(['list', S], { BACKWING_API_KEY: 'ptlc_notarealkey0000000000000000000000000000' });
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /--key \/ BACKWING_API_KEY/);
    const viaFlag = await cli(['list', S, '--key', 'nonsense', '--json']);
    assert.equal(viaFlag.code, 1);
    assert.equal(viaFlag.stdout, '');
  });

  test('unknown server and unknown backup: exit 1, one line', async () => {
    const r = await cli(['list', 'zzzzzzzz']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /not found|could not be found|NotFound/i);
    const b = await cli(['show', S, '00000000-0000-4000-8000-000000000000']);
    assert.equal(b.code, 1);
    oneLine(b);
  });

  test('unreachable panel and missing key are one line each', async () => {
    const r = await cli(['list', S], { BACKWING_URL: 'http://127.0.0.1:9' });
    assert.equal(r.code, 1);
    assert.match(oneLine(r), /cannot reach the panel at http:\/\/127\.0\.0\.1:9/);
    // From a folder without data/api-key.txt, so the quick-start fallback has nothing to find.
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const noKey = await runCli(['backups', 'list', S], { cwd: empty, env: { BACKWING_URL: stack.info.panel_url } });
    assert.equal(noKey.code, 1);
    assert.match(oneLine(noKey), /no API key/);
  });

  test('limit reached: the panel refusal comes through as one line, exit 1', async () => {
    // Lower the limit through the panel's own services on the same SQLite file while `up` runs.
    const ctx = await openPanelContext(loadPanelConfig({}, { databaseUrl: `sqlite:${join(stack.info.data_dir, 'panel.sqlite')}` }));
    try {
      const server = (await ctx.services.servers.find(stack.info.server_uuid))!;
      const { backup_count } = json<{ backup_count: number }>(await cli(['list', S, '--json']));
      await ctx.services.servers.update(server.id, { backupLimit: backup_count });
      const r = await cli(['create', S, '--wait']);
      assert.equal(r.code, 1);
      assert.match(oneLine(r), /reached its limit.*\[TooManyBackupsException\]/);
      await ctx.services.servers.update(server.id, { backupLimit: server.backupLimit });
    } finally {
      await ctx.close();
    }
  });

  test('the running panel and daemon serve the checked-in OpenAPI documents at /docs/json', async () => {
    for (const [base, file] of [[stack.info.panel_url, 'panel.json'], [stack.info.daemon_url, 'daemon.json']] as const) {
      const res = await fetch(`${base}/docs/json`);
      assert.equal(res.status, 200, `${base}/docs/json`);
      const served = (await res.json()) as { paths: Record<string, unknown> };
      const checkedIn = JSON.parse(await readFile(join(REPO, 'openapi', file), 'utf8')) as { paths: Record<string, unknown> };
      assert.deepEqual(served.paths, checkedIn.paths, `${file} differs from what ${base} serves`);
    }
  });

  test('every backups subcommand has --help', async () => {
    for (const sub of ['', 'list', 'show', 'create', 'download', 'lock', 'unlock', 'restore', 'delete', 'verify']) {
      const r = await runCli(['backups', ...(sub ? [sub] : []), '--help']);
      assert.equal(r.code, 0, `${sub}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: backwing backups/m);
    }
    const s = await stat(join(stack.info.data_dir, 'api-key.txt'));
    assert.equal(s.mode & 0o777, 0o600);
  });

  test('a restic backup (the node switched to restic): files, get, compare and restore --path work as for tar.gz', async () => {
    const admin = (args: string[]) => runCli(['admin', 'node', 'restic', 'local', '--data', stack.info.data_dir, ...args]);
    const set = await admin(['--repository', join(dir, 'restic-repo'), '--json']);
    assert.equal(set.code, 0, set.stderr);
    let made: Backup | undefined;
    try {
      const r = await cli(['create', S, '--name', 'restic', '--wait', '--json', '--poll', '0.5']);
      assert.equal(r.code, 0, r.stderr);
      made = json<Backup & { bytes_added?: number }>(r);
      assert.equal(made.successful, true);
      assert.ok((made as { bytes_added?: number }).bytes_added! > 0, 'a restic snapshot: bytes added shown');
      const found = json<{ entries: Array<{ path: string }> }>(await cli(['files', S, made.uuid, '--search', '*.mca', '--json']));
      assert.deepEqual(found.entries.map((e) => e.path).sort(), ['world/region/r.0.-1.mca', 'world/region/r.0.0.mca']);
      const out = join(dir, 'restic.server.properties');
      const got = await cli(['get', S, made.uuid, 'server.properties', '-o', out]);
      assert.equal(got.code, 0, got.stderr);
      assert.match(await readFile(out, 'utf8'), /motd=A backwing demo server/);
      const folder = await cli(['get', S, made.uuid, 'world', '-o', join(dir, 'restic-world.tar.gz'), '--json']);
      assert.equal(json<{ kind: string }>(folder).kind, 'folder');
      assert.match(execFileSync('tar', ['-tzf', join(dir, 'restic-world.tar.gz')], { encoding: 'utf8' }), /^world\/region\/r\.0\.0\.mca$/m);
      // A restic backup compared with the first (tar.gz) one: same files, nothing changed.
      const cmp = await cli(['compare', S, first.uuid, made.uuid, '--json']);
      assert.equal(cmp.code, 0, cmp.stderr);

      const props = join(stack.info.data_dir, 'volumes', stack.info.server_uuid, 'server.properties');
      await writeFile(props, 'broken\n');
      const restored = await cli(['restore', S, made.uuid, '--path', 'server.properties', '--wait', '--poll', '0.5']);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(await readFile(props, 'utf8'), /motd=A backwing demo server/);
    } finally {
      if (made) await cli(['delete', S, made.uuid]);
      const off = await admin(['--disable']);
      assert.equal(off.code, 0, off.stderr);
    }
  });
});

