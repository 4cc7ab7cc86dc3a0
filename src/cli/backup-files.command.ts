/**
 * `backwing backups files|get` — browse a backup and fetch one file or folder through its index
 * (backwing extension, issue 14). `restore --path` lives with `restore` in backups.command.ts.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { BackupFileEntry } from '../wire/daemon-api.ts';
import { CliError } from '../core/cli-error.ts';
import type { PanelApi } from './client/panel-api.ts';
import { formatBytes } from './client/progress.ts';

export interface CliHelpers<G> {
  globals(cmd: Command): G;
  api(g: G): PanelApi;
  print(line: string): void;
  printJson(value: unknown): void;
  printTable(head: string[], rows: string[][]): void;
}

/** While the node builds the index of an archive that had none, ask again for up to a minute. */
async function untilReady<T>(ask: () => Promise<T>, building: (r: T) => boolean): Promise<T> {
  let r = await ask();
  for (let i = 0; building(r) && i < 120; i++) {
    if (i === 0) process.stderr.write('an index is being built (first browse of an archive without one); waiting…\n');
    await sleep(500);
    r = await ask();
  }
  if (building(r)) throw new CliError('an index is still being built; try again in a moment');
  return r;
}

function row(e: BackupFileEntry): string[] {
  const name = e.type === 'dir' ? `${e.path}/` : e.type === 'symlink' ? `${e.path} -> ${e.link_target ?? ''}` : e.path;
  return [e.type, e.type === 'file' ? formatBytes(e.size) : '-', e.modified_at ?? '-', name];
}

export function registerBackupFileCommands<G extends { json?: boolean }>(backups: Command, h: CliHelpers<G>): void {
  backups
    .command('files')
    .description('list a folder of a backup, or search it by name (backwing extension)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .argument('[path]', 'folder inside the backup (default: its top)', '')
    .option('--search <pattern>', 'find files and folders whose name matches (* and ? wildcards, else a substring)')
    .option('--page <n>', 'page number', (v) => Math.max(1, Number.parseInt(v, 10) || 1), 1)
    .option('--per-page <n>', 'entries per page (at most 500)', (v) => Math.max(1, Number.parseInt(v, 10) || 100), 100)
    .action(async (server: string, backup: string, path: string, o: { search?: string; page: number; perPage: number }, cmd: Command) => {
      const g = h.globals(cmd);
      const client = h.api(g);
      const q = o.search !== undefined ? { pattern: o.search } : { path };
      const r = await untilReady(() => client.backupFiles(server, backup, { ...q, page: o.page, perPage: o.perPage }), (x) => x.meta.status === 'building');
      const entries = r.data.map((d) => d.attributes);
      const p = r.meta.pagination;
      if (g.json) return h.printJson({ path: r.meta.path, entries, pagination: { total: p.total, page: p.current_page, per_page: p.per_page, total_pages: p.total_pages } });
      if (entries.length === 0) return h.print(o.search !== undefined ? 'no matches' : 'empty folder');
      h.printTable(['TYPE', 'SIZE', 'MODIFIED', 'PATH'], entries.map(row));
      if (p.total_pages > 1) h.print(`page ${p.current_page} of ${p.total_pages} (${p.total} entries; --page N for more)`);
    });

  backups
    .command('compare')
    .description('what changed between two backups of a server: added, removed and changed files with sizes (backwing extension)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'the older backup')
    .argument('<other>', 'the newer backup')
    .option('--page <n>', 'page number', (v) => Math.max(1, Number.parseInt(v, 10) || 1), 1)
    .action(async (server: string, backup: string, other: string, o: { page: number }, cmd: Command) => {
      const g = h.globals(cmd);
      const client = h.api(g);
      const r = await untilReady(() => client.compareBackups(server, backup, other, o.page), (x) => x.status === 'building');
      if (g.json) return h.printJson(r);
      const c = r.counts;
      h.print(`${c.added} added, ${c.removed} removed, ${c.changed} changed (${r.size_delta >= 0 ? '+' : '-'}${formatBytes(Math.abs(r.size_delta))})`);
      if (r.entries.length === 0) return;
      const sign = { added: '+', removed: '-', changed: '~' } as const;
      h.printTable(['', 'BEFORE', 'AFTER', 'PATH'], r.entries.map((e) => [sign[e.change], e.change === 'added' ? '-' : formatBytes(e.size_before), e.change === 'removed' ? '-' : formatBytes(e.size), e.type === 'dir' ? `${e.path}/` : e.path]));
      const pages = Math.max(1, Math.ceil(r.total / r.per_page));
      if (pages > 1) h.print(`page ${r.page} of ${pages} (--page N for more)`);
    });

  backups
    .command('get')
    .description('download one file (as it is) or a folder (as .tar.gz) from a backup, reading only what holds it (backwing extension)')
    .argument('<server>', 'server identifier or uuid')
    .argument('<backup>', 'backup uuid')
    .argument('<path>', 'file or folder inside the backup')
    .option('-o, --output <file>', 'where to save it (default: ./<name>, or ./<folder>.tar.gz; - for stdout)')
    .option('--force', 'overwrite the output file if it exists')
    .action(async (server: string, backup: string, path: string, o: { output?: string; force?: boolean }, cmd: Command) => {
      const g = h.globals(cmd);
      const client = h.api(g);
      const url = await client.fileUrl(server, backup, path);
      const res = await fetch(url);
      if (!res.ok || !res.body) {
        const detail = await res.text().then((t) => (JSON.parse(t) as { error?: string }).error ?? t, () => '');
        throw new CliError(`the node refused the file: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
      }
      const isFolder = (res.headers.get('content-type') ?? '').includes('gzip');
      const name = basename(path.replace(/\/+$/, '')) || 'backup';
      if (o.output === '-') {
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), process.stdout);
        return;
      }
      const dest = resolve(o.output ?? (isFolder ? `${name}.tar.gz` : name));
      if (existsSync(dest) && !o.force) throw new CliError(`${dest} already exists (use --force to overwrite)`);
      const tmp = `${dest}.part`;
      try {
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp));
        await rename(tmp, dest);
      } catch (err) {
        await rm(tmp, { force: true });
        throw new CliError(`downloading ${path} failed: ${(err as Error).message}`);
      }
      const { size } = await stat(dest);
      if (g.json) return h.printJson({ file: dest, bytes: size, kind: isFolder ? 'folder' : 'file' });
      h.print(`saved ${dest} (${formatBytes(size)}${isFolder ? ', a .tar.gz of the folder' : ''})`);
    });
}
