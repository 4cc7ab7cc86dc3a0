/**
 * `backwing up` (what `npm start` runs): panel + one daemon in one process, everything under
 * --data. Prints how to use it, then runs until SIGINT/SIGTERM.
 */
import { Command, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import { createLogger } from '../core/logger.ts';
import { CliError } from '../core/cli-error.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start the panel and one daemon together (SQLite + local disk under --data), on loopback')
    .option('--data <dir>', 'where everything is kept', './data')
    .option('--panel-port <port>', 'panel port (0 = any free port)', (v) => parsePort(v, '--panel-port'), 8000)
    .option('--daemon-port <port>', 'daemon port (0 = any free port)', (v) => parsePort(v, '--daemon-port'), 8080)
    .option('--json', 'once both are ready, print one JSON line with the URLs, key and ids (for scripts)')
    .addOption(new Option('--log-level <level>', 'JSON logs on stderr at this level and above').choices(LEVELS).default('warn'))
    .addHelpText(
      'after',
      `
First run creates the admin user admin@backwing.local (password printed once and kept in
<data>/admin-password.txt, mode 0600; delete that file and restart to set a new one), a client API
key (<data>/api-key.txt), the node and a demo server with sample files. Later runs reuse them.
Environment variables of \`backwing panel\` (BACKUP_THROTTLE_*, BACKUP_PRUNE_AGE, …) apply; the
database is always <data>/panel.sqlite. \`backwing admin ...\` works on the same data while it runs.`,
    )
    .action(async (o: { data: string; panelPort: number; daemonPort: number; json?: boolean; logLevel: string }) => {
      const logger = createLogger({ level: o.logLevel as LevelWithSilent, name: 'backwing' });
      // Loaded here so `backwing backups ...` never pays for the panel and daemon modules.
      const { startStack } = await import('../stack/start-stack.ts');
      const { renderBanner } = await import('../stack/banner.ts');
      let stack;
      try {
        stack = await startStack({ dataDir: o.data, panelPort: o.panelPort, daemonPort: o.daemonPort, logger });
      } catch (err) {
        exitSoon();
        throw err;
      }
      if (o.json) process.stdout.write(`${JSON.stringify(stack.info)}\n`);
      else process.stdout.write(renderBanner(stack.info));

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      // A second Ctrl-C while jobs are being wound down means "now". Not one that arrives at once:
      // under `npm start` a terminal's Ctrl-C reaches us twice (from the tty and forwarded by npm).
      const firstAt = Date.now();
      process.on('SIGINT', () => {
        if (Date.now() - firstAt > 1000) process.exit(130);
      });
      if (!o.json) process.stderr.write(`\n${signal}: stopping (running jobs are ended and reported)…\n`);
      await stack.close();
      if (!o.json) process.stderr.write('stopped\n');
      exitSoon();
    });
}

/** Only fires if some stray handle would otherwise keep a stopped server process alive. */
function exitSoon(): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
}

function parsePort(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new CliError(`${flag} must be a port number from 0 to 65535, got "${v}"`);
  return n;
}
