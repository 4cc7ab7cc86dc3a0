/**
 * `backwing backups ...` — a client for the panel's client API. Human output on stdout, progress
 * bars on stderr (terminals only), `--json` prints exactly one JSON document on stdout for scripts.
 * Exit codes: see src/cli/client/exit-codes.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { BackupAttributes } from '../wire/client-api.ts';
import { CliError } from '../core/cli-error.ts';
import { EXIT } from './client/exit-codes.ts';
import { PanelApi } from './client/panel-api.ts';
import { createProgress, formatBytes, shouldShowProgress } from './client/progress.ts';
import { downloadWithResume, partPath } from './client/download.ts';
import { followJob, type FollowResult } from './client/follow.ts';
import { confirmOrStop } from './client/confirm.ts';
import { backupFileName } from '../core/file-name.ts';
import { registerBackupFileCommands } from './backup-files.command.ts';

interface GlobalOpts {
  url?: string;
  key?: string;
  json?: boolean;
  yes?: boolean;
}

const DEFAULT_URL = 'http://127.0.0.1:8000';

export function registerBackupsCommands(program: Command): void {
  const backups = program
    .command('backups')
    .description('list, create, download, browse, lock, restore and delete backups through the panel API')
    .addOption(new Option('--url <url>', `panel URL (default: $BACKWING_URL or ${DEFAULT_URL})`))
    .addOption(new Option('--key <key>', 'client API key (default: $BACKWING_API_KEY, else ./data/api-key.txt from `backwing up`)'))
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-y, --yes', 'do not ask before delete, restore --truncate and cancel (they only ask on a terminal)')
    .addHelpText(
      'after',
      `
Exit codes: 0 done; 1 error (one-line reason on stderr); 3 the backup/restore failed (--wait);
4 --wait timed out; 5 downloaded file does not match the panel's sha256; 6 verify found the
backup damaged; 130 interrupted.`,
    );

  backups
    .command('list')
    .description("list a server's backups")
    .argument('<server>', 'server identifier or uuid')
    .action(async (server: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { backups: list, backupCount } = await api(g).listBackups(server);
      if (g.json) return printJson({ backups: list, backup_count: backupCount });
      if (list.length === 0) return print('no backups');
      const rows = list.map((b) => [b.uuid, b.name, status(b), b.completed_at ? formatBytes(b.bytes) : '-', b.is_locked ? 'yes' : 'no', b.created_at]);
      printTable(['UUID', 'NAME', 'STATUS', 'SIZE', 'LOCKED', 'CREATED'], rows);
    });

  backups
    .command('show')
    .description('show one backup')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .action(async (server: string, backup: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const b = await api(g).getBackup(server, backup);
      if (g.json) return printJson(b);
      printBackup(b);
    });

  backups
    .command('create')
    .description('start a backup (with --wait, follow it to the end)')
    .argument('<server>', 'server identifier or uuid')
    .option('--name <name>', 'backup name (default: the panel picks a timestamp)')
    .option('--ignore <pattern...>', 'gitignore-style pattern to leave out (repeatable)')
    .option('--lock', 'lock the backup so it cannot be deleted (needs backup.delete)')
    .option('--wait', 'wait until the backup finishes, with live progress')
    .option('--timeout <seconds>', 'with --wait: give up after this long (0 = never)', parseSeconds, 0)
    .option('--poll <seconds>', 'with --wait: how often to ask the panel', parseSeconds, 2)
    .action(async (server: string, o: { name?: string; ignore?: string[]; lock?: boolean; wait?: boolean; timeout: number; poll: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = api(g);
      const created = await client.createBackup(server, { name: o.name, ignored: o.ignore, locked: o.lock });
      if (!o.wait) {
        if (g.json) return printJson(created);
        return print(`backup ${created.uuid} started (${created.name})`);
      }
      if (!g.json) print(`backup ${created.uuid} started (${created.name}); waiting…`);
      const result = await follow(client, g, server, created.uuid, 'backup', o.timeout, o.poll);
      finishJob(g, result, () => `backup ${result.backup.uuid} completed: ${formatBytes(result.backup.bytes)}, ${result.backup.checksum ?? 'no checksum'}`);
    });

  backups
    .command('download')
    .description('download a backup archive (resumes an interrupted download from FILE.part)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .option('-o, --output <file>', 'where to save it (default: ./<name>-<short uuid>.tar.gz)')
    .option('--force', 'overwrite the output file if it exists')
    .option('--no-verify', "skip comparing the file's sha256 with the panel's checksum")
    .option('--retries <n>', 'attempts after a dropped connection', (v) => parsePositiveInt(v, '--retries'), 5)
    .action(async (server: string, backup: string, o: { output?: string; force?: boolean; verify: boolean; retries: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = api(g);
      const b = await client.getBackup(server, backup);
      const dest = resolve(o.output ?? backupFileName(b.name, b.uuid));
      if (existsSync(dest) && !o.force) throw new CliError(`${dest} already exists (use --force to overwrite)`);
      const bar = createProgress({ label: 'download', enabled: shouldShowProgress(!!g.json) });
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      let result;
      try {
        result = await downloadWithResume({
          getUrl: () => client.downloadUrl(server, b.uuid),
          dest,
          retries: o.retries,
          onProgress: (done, total) => bar.update(done, total ?? (b.bytes || null)),
          signal: ac.signal,
        });
      } catch (err) {
        if (ac.signal.aborted) throw new CliError(`interrupted; ${partPath(dest)} kept — run the same command again to resume`, 130);
        throw err;
      } finally {
        bar.stop();
        process.removeListener('SIGINT', onSigint);
      }
      const expected = b.checksum_type === 'sha256' ? (b.sha256_hash ?? b.checksum?.replace(/^sha256:/, '') ?? null) : null;
      const verified = o.verify && expected !== null;
      if (verified && expected !== result.sha256) {
        throw new CliError(`${dest}: sha256 ${result.sha256} does not match the panel's ${expected}`, EXIT.checksumMismatch);
      }
      if (g.json) {
        return printJson({ file: result.file, bytes: result.bytes, sha256: result.sha256, resumed_from: result.resumedFrom, verified });
      }
      const resumed = result.resumedFrom > 0 ? `, resumed at ${formatBytes(result.resumedFrom)}` : '';
      print(`saved ${result.file} (${formatBytes(result.bytes)}${resumed}; sha256 ${result.sha256}${verified ? ' verified' : ''})`);
    });

  for (const locked of [true, false]) {
    backups
      .command(locked ? 'lock' : 'unlock')
      .description(locked ? 'lock a backup so it cannot be deleted' : 'unlock a backup')
      .argument('<server>', 'server identifier or uuid')
      .argument('<backup>', 'backup uuid')
      .action(async (server: string, backup: string, _o: unknown, cmd: Command) => {
        const g = globals(cmd);
        const b = await api(g).setLocked(server, backup, locked);
        if (g.json) return printJson(b);
        print(`backup ${b.uuid} ${b.is_locked ? 'locked' : 'unlocked'}`);
      });
  }

  backups
    .command('restore')
    .description("restore a backup into the server's files (with --wait, follow it to the end)")
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .option('--truncate', 'delete all existing files before restoring')
    .option('--path <path...>', 'restore only this file or folder of the backup (repeatable; never truncates; backwing extension)')
    .option('--keep-newer', 'with --path: keep files on the server that are newer than the backup\'s copy')
    .option('--wait', 'wait until the restore finishes, with live progress')
    .option('--timeout <seconds>', 'with --wait: give up after this long (0 = never)', parseSeconds, 0)
    .option('--poll <seconds>', 'with --wait: how often to ask the panel', parseSeconds, 2)
    .action(async (server: string, backup: string, o: { truncate?: boolean; path?: string[]; keepNewer?: boolean; wait?: boolean; timeout: number; poll: number }, cmd: Command) => {
      const g = globals(cmd);
      const client = api(g);
      if (o.path && o.truncate) throw new CliError('--path restores only those paths and never truncates: drop --truncate');
      if (o.keepNewer && !o.path) throw new CliError('--keep-newer goes with --path');
      if (o.truncate) {
        const b = await client.getBackup(server, backup);
        await confirmOrStop(`Delete every file of server ${server}, then restore "${b.name}" into it?`, { yes: g.yes });
      }
      await client.restoreBackup(server, backup, !!o.truncate, o.path ? { paths: o.path, keepNewer: !!o.keepNewer } : undefined);
      if (!o.wait) {
        if (g.json) return printJson({ backup, truncate: !!o.truncate, started: true, ...(o.path ? { paths: o.path } : {}) });
        return print(`restore of ${backup} started${o.truncate ? ' (truncating first)' : ''}`);
      }
      if (!g.json) print(`restore of ${backup} started${o.truncate ? ' (truncating first)' : ''}; waiting…`);
      const result = await follow(client, g, server, backup, 'restore', o.timeout, o.poll);
      finishJob(g, result, () => `restore of ${backup} completed`);
    });

  registerBackupFileCommands(backups, { globals, api, print, printJson, printTable });

  backups
    .command('delete')
    .description('delete a backup (locked backups must be unlocked first)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .action(async (server: string, backup: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const client = api(g);
      const b = await client.getBackup(server, backup);
      if (b.is_locked && b.completed_at !== null && b.is_successful) {
        throw new CliError(`backup ${b.uuid} ("${b.name}") is locked: unlock it first (backwing backups unlock ${server} ${b.uuid})`);
      }
      await confirmOrStop(`Delete backup "${b.name}" (${b.uuid})? This cannot be undone.`, { yes: g.yes });
      await client.deleteBackup(server, backup);
      if (g.json) return printJson({ deleted: backup });
      print(`backup ${backup} deleted`);
    });

  backups
    .command('verify')
    .description('read a backup back now: checksum recomputed, archive walked to the end (backwing extension)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .action(async (server: string, backup: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const b = await api(g).verifyBackup(server, backup);
      if (g.json) printJson(b);
      if (b.verification === 'good') {
        if (!g.json) print(`backup ${b.uuid} ("${b.name}") is good: read back at ${b.verified_at}`);
        return;
      }
      // With --json the document above already went out; the reason still goes to stderr.
      throw new CliError(`backup ${b.uuid} ("${b.name}") is damaged: ${b.damage_reason ?? 'no reason recorded'}`, EXIT.damaged);
    });

  backups
    .command('cancel')
    .description('stop a running backup, or the restore running from this backup (backwing extension)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'uuid of the running backup, or of the backup being restored')
    .action(async (server: string, backup: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const client = api(g);
      const s = await client.getServer(server);
      if (s.attributes.status === 'restoring_backup') {
        await confirmOrStop(`Stop the restore of server ${server}? Files already restored stay; the rest are not restored.`, { yes: g.yes });
        await client.cancelRestore(server);
        if (g.json) return printJson({ cancelled: 'restore', server });
        return print(`restore of server ${server} cancelled; files already restored stay — restore again for a complete copy`);
      }
      const b = await client.getBackup(server, backup);
      if (b.completed_at !== null) throw new CliError(`backup ${b.uuid} ("${b.name}") is not running (it ${b.is_successful ? 'completed' : 'failed'}); nothing to cancel`);
      await confirmOrStop(`Stop backup "${b.name}" (${b.uuid})? What it wrote so far is removed.`, { yes: g.yes });
      await client.cancelBackup(server, b.uuid);
      if (g.json) return printJson({ cancelled: 'backup', backup: b.uuid });
      print(`backup ${b.uuid} cancelled; its partial archive was removed`);
    });
}

async function follow(client: PanelApi, g: GlobalOpts, server: string, backup: string, kind: 'backup' | 'restore', timeout: number, poll: number): Promise<FollowResult> {
  const bar = createProgress({ label: kind, enabled: shouldShowProgress(!!g.json) });
  // The line is there from the first moment; the total arrives with the daemon's first frame.
  bar.update(0, null);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    return await followJob({
      api: client,
      server,
      backup,
      kind,
      timeoutMs: timeout * 1000,
      pollIntervalMs: poll * 1000,
      onProgress: (done, total, source) => bar.update(done, total, source),
      signal: ac.signal,
    });
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

function finishJob(g: GlobalOpts, result: FollowResult, okLine: () => string): void {
  if (g.json) printJson({ ...result.backup, successful: result.successful, ...(result.error ? { error: result.error } : {}) });
  else if (result.successful) print(okLine());
  if (!result.successful) {
    // With --json the document above already went out; the one-line reason still goes to stderr.
    throw new CliError(result.error ?? 'the job failed', EXIT.jobFailed);
  }
}

function globals(cmd: Command): GlobalOpts {
  return cmd.optsWithGlobals<GlobalOpts>();
}

function api(g: GlobalOpts): PanelApi {
  const url = g.url || process.env.BACKWING_URL || DEFAULT_URL;
  const key = g.key || process.env.BACKWING_API_KEY || keyFromDataDir();
  if (!key) throw new CliError('no API key: pass --key or set BACKWING_API_KEY (`backwing up` prints one and keeps it in data/api-key.txt)');
  try {
    new URL(url);
  } catch {
    throw new CliError(`--url ${url} is not a URL`);
  }
  return new PanelApi({ url, key });
}

/** Convenience for the two-command quick start: `npm start`, then `backwing backups ...` in the same folder. */
function keyFromDataDir(): string | undefined {
  try {
    return readFileSync(resolve('data', 'api-key.txt'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function status(b: BackupAttributes): string {
  if (b.completed_at === null) return 'running';
  return b.is_successful ? 'ok' : 'failed';
}

function printBackup(b: BackupAttributes): void {
  const rows: Array<[string, string]> = [
    ['uuid', b.uuid],
    ['name', b.name],
    ['status', status(b)],
    ['size', b.completed_at ? `${formatBytes(b.bytes)} (${b.bytes} bytes)` : '-'],
    ['checksum', b.checksum ?? '-'],
    ['locked', b.is_locked ? 'yes' : 'no'],
    ['ignored', b.ignored_files.length ? b.ignored_files.join(', ') : '-'],
    ['created', b.created_at],
    ['completed', b.completed_at ?? '-'],
    ['verified', verificationText(b)],
    ...(status(b) === 'failed' ? [['why', failureReasonText(b)] as [string, string]] : []),
  ];
  for (const [k, v] of rows) print(`${k.padEnd(10)} ${v}`);
}

/** backwing's last verification; an upstream panel has none. */
function verificationText(b: BackupAttributes): string {
  if (!b.verified_at || !b.verification) return 'never';
  return b.verification === 'good' ? `good (${b.verified_at})` : `DAMAGED (${b.verified_at}): ${b.damage_reason ?? 'no reason recorded'}`;
}

/** The stored reason (backwing's `failure_reason`); an upstream panel has none. */
function failureReasonText(b: BackupAttributes): string {
  const r = b.failure_reason;
  return typeof r === 'string' && r !== '' ? r : 'the panel did not record a reason';
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  print(line(head));
  for (const r of rows) print(line(r));
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`expected a number of seconds, got "${v}"`);
  return n;
}

function parsePositiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} expects a whole number, got "${v}"`);
  return n;
}
