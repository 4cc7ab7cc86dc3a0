import { once } from 'node:events';
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ArchiveProgress, ChecksumType, CompressionLevel } from '../archive/index.ts';
import { isAppError } from '../core/app-error.ts';
import { CliError } from '../core/cli-error.ts';

function parseLevel(v: string): CompressionLevel {
  if (v === 'best_speed' || v === 'best_compression' || v === 'none') return v;
  if (/^[0-9]$/.test(v)) return Number(v);
  throw new InvalidArgumentError('use best_speed, best_compression, none or 0-9');
}

function parseChecksum(v: string): ChecksumType {
  if (v === 'sha256' || v === 'sha1') return v;
  throw new InvalidArgumentError('use sha256 or sha1');
}

function parseRate(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('bytes per second, a non-negative integer');
  return n;
}

/**
 * A progress bar on stderr when it is a terminal; nothing otherwise (scripts read stdout). The bar
 * library and the engine are imported inside the actions: start-up time counts for a CLI.
 */
async function progressBar(label: string, total: number | null): Promise<{ update: (p: ArchiveProgress) => void; stop: () => void } | null> {
  if (!process.stderr.isTTY) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} {bar} {percentage}% | {mib} MiB | {files} entries`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 1, 0, { mib: '0.0', files: 0 });
  return {
    update: (p) => bar.update(total ? Math.min(total, p.bytesRead) : 0, { mib: (p.bytesRead / 1048576).toFixed(1), files: p.filesDone }),
    stop: () => bar.stop(),
  };
}

/** Rough size of the tree for the bar's 100%; skipped when no terminal will show it. */
function treeBytes(root: string): number | null {
  let total = 0;
  const stack = [root];
  try {
    while (stack.length) {
      const dir = stack.pop()!;
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = `${dir}/${d.name}`;
        if (d.isDirectory()) stack.push(p);
        else if (d.isFile()) total += fs.lstatSync(p).size;
      }
    }
  } catch {
    return null;
  }
  return total;
}

/**
 * What the engine says while it works (a file that changed during the walk, the slower path when the
 * native addon is not loaded), as plain lines on stderr: the services log JSON, a person reads this.
 */
async function stderrLogger(): Promise<import('../core/logger.ts').Logger> {
  const { pino } = await import('pino');
  return pino({ level: 'info', base: null, timestamp: false }, {
    write(line: string) {
      const { msg, level: _level, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const detail = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`backwing: ${String(msg)}${detail}\n`);
    },
  });
}

function fail(err: unknown): never {
  if (err instanceof CliError) throw err;
  if (isAppError(err)) throw new CliError(`${err.message} (${err.code})`, err.status === 400 ? 2 : 1);
  throw new CliError(err instanceof Error ? err.message : String(err));
}

function openInput(file: string): fs.ReadStream {
  if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`, 2);
  return fs.createReadStream(file, { highWaterMark: 1 << 20 });
}

export function registerArchiveCommands(program: Command): void {
  const archive = program.command('archive').description('Create, extract, list and verify .tar.gz archives with the backup engine');

  archive
    .command('create <dir>')
    .description('archive a directory into a .tar.gz; prints its size and checksum')
    .requiredOption('-o, --output <file>', 'archive to write (written to a temporary name, renamed when complete)')
    .option('--ignore-file <file>', 'gitignore-style patterns, applied after <dir>/.pteroignore')
    .option('--level <level>', 'best_speed | best_compression | none | 0-9', parseLevel, 'best_speed' as CompressionLevel)
    .option('--checksum <type>', 'sha256 | sha1', parseChecksum, 'sha256' as ChecksumType)
    .option('--write-limit <bytesPerSecond>', 'cap on the compressed output rate', parseRate, 0)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: { output: string; ignoreFile?: string; level: CompressionLevel; checksum: ChecksumType; writeLimit: number; json?: boolean }) => {
      let ignore: string | undefined;
      if (o.ignoreFile) {
        try {
          ignore = fs.readFileSync(o.ignoreFile, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ignore file: ${(err as Error).message}`, 2);
        }
      }
      const bar = await progressBar('create ', process.stderr.isTTY ? treeBytes(dir) : null);
      try {
        const { createArchiveFile } = await import('../archive/index.ts');
        const r = await createArchiveFile(dir, o.output, { ignore, level: o.level, checksum: o.checksum, writeLimit: o.writeLimit, onProgress: bar?.update, logger: await stderrLogger() });
        bar?.stop();
        if (o.json) process.stdout.write(`${JSON.stringify({ file: o.output, size: r.size, checksum: `${r.checksumType}:${r.checksum}`, checksum_type: r.checksumType, files: r.files, bytes_read: r.bytesRead })}\n`);
        else process.stdout.write(`${o.output}\nsize: ${r.size}\nchecksum: ${r.checksumType}:${r.checksum}\nentries: ${r.files}\n`);
      } catch (err) {
        bar?.stop();
        fail(err);
      }
    });

  archive
    .command('extract <file>')
    .description('extract a .tar.gz into a directory, refusing anything that would land outside it')
    .requiredOption('-C, --directory <dir>', 'target directory (created if missing)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { directory: string; json?: boolean }) => {
      fs.mkdirSync(o.directory, { recursive: true });
      const input = openInput(file);
      const bar = await progressBar('extract', fs.statSync(file).size);
      try {
        const { extractArchive } = await import('../archive/index.ts');
        const r = await extractArchive(input, o.directory, {
          onProgress: bar?.update,
          logger: await stderrLogger(),
          onSkip: o.json ? undefined : (name, reason) => process.stderr.write(`skipped ${JSON.stringify(name)}: ${reason}\n`),
        });
        bar?.stop();
        if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(`entries: ${r.entries}\nfiles: ${r.files}\ndirs: ${r.dirs}\nsymlinks: ${r.symlinks}\nbytes: ${r.bytesWritten}\nskipped: ${r.skipped.length}\n`);
      } catch (err) {
        bar?.stop();
        fail(err);
      }
    });

  archive
    .command('list <file>')
    .description('list the entries of a .tar.gz')
    .option('--json', 'one JSON object per line')
    .action(async (file: string, o: { json?: boolean }) => {
      // `backwing archive list x | head` closes the pipe early; that is not an error.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      try {
        const { listArchive } = await import('../archive/index.ts');
        for await (const e of listArchive(openInput(file))) {
          let line: string;
          if (o.json) line = `${JSON.stringify({ ...e, mtime: e.mtime.toISOString() })}\n`;
          else {
            const mode = e.mode.toString(8).padStart(4, '0');
            const link = e.linkname ? ` -> ${e.linkname}` : '';
            line = `${e.type.padEnd(8)} ${mode} ${String(e.size).padStart(12)} ${e.mtime.toISOString()} ${e.name}${link}\n`;
          }
          if (!process.stdout.write(line)) await once(process.stdout, 'drain');
        }
      } catch (err) {
        fail(err);
      }
    });

  archive
    .command('verify <file>')
    .description('check every gzip member (CRC, length) and the whole tar stream')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      try {
        const { verifyArchive } = await import('../archive/index.ts');
        const r = await verifyArchive(openInput(file));
        if (o.json) process.stdout.write(`${JSON.stringify({ ok: true, ...r })}\n`);
        else process.stdout.write(`ok: ${r.members} gzip member(s)${r.parallelIndexed ? ' (indexed)' : ''}, ${r.entries} entries, ${r.bytes} tar bytes\n`);
      } catch (err) {
        fail(err);
      }
    });
}
