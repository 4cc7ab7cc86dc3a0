/**
 * `backwing` — one binary for every role. Each area registers its own subcommands in its own file;
 * this file only picks them. Start-up time is a feature (`backwing --version` ≤ 0.15 s, `archive
 * create` of an empty folder ≤ 0.3 s): only the module of the command being run is imported, and
 * `--version` answers before commander itself is loaded. Help and unknown commands load them all.
 */
import { VERSION } from '../core/version.ts';

type Register = (program: import('commander').Command) => void;

/** Subcommand name → its registration module, imported only when that command runs. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  up: async () => (await import('./up.command.ts')).registerUpCommand,
  panel: async () => (await import('./panel.command.ts')).registerPanelCommand,
  daemon: async () => (await import('./daemon.command.ts')).registerDaemonCommand,
  admin: async () => (await import('./admin.command.ts')).registerAdminCommands,
  backups: async () => (await import('./backups.command.ts')).registerBackupsCommands,
  archive: async () => (await import('./archive.command.ts')).registerArchiveCommands,
};

/**
 * The services idle most of the time, so their heap strategy follows their load (core/heap-footprint):
 * small while quiet, fast while working. Set before their modules load. The one-shot CLI commands
 * keep V8's defaults: they are work from start to end.
 */
const SERVICE_COMMANDS = new Set(['up', 'panel', 'daemon']);

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${VERSION}\n`);
} else {
  await run();
}

async function run(): Promise<void> {
  try {
    const { Command } = await import('commander');
    const program = new Command();
    program
      .name('backwing')
      .description('Backups for game servers: a Pterodactyl-compatible panel and daemon')
      .version(VERSION)
      .showHelpAfterError();
    // The first word that is not an option names the command; anything else (help, a typo) gets all
    // of them registered, so help lists every command and commander's suggestions still work.
    const name = args.find((a) => !a.startsWith('-'));
    if (name !== undefined && SERVICE_COMMANDS.has(name)) (await import('../core/heap-footprint.ts')).startHeapFootprint();
    const chosen = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS);
    for (const register of await Promise.all(chosen.map((load) => load()))) register(program);
    await program.parseAsync(process.argv);
  } catch (err) {
    // Commands throw CliError for expected failures; anything else is still one line, not a trace.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`backwing: ${message}\n`);
    if (process.env.BACKWING_DEBUG) console.error(err);
    process.exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1;
  }
}
