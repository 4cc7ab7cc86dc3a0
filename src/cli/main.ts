/**
 * `backwing` — one binary for every role. Each area registers its own subcommands in its own file;
 * this file only picks them. Start-up time is a feature (`backwing --version` ≤ 0.15 s, `archive
 * create` of an empty folder ≤ 0.3 s): only the module of the command being run is imported, and
 * `--version` answers before commander itself is loaded. Help and unknown commands load them all.
 */
import { setFlagsFromString } from 'node:v8';
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
 * Services idle most of the time, so their footprint matters more than peak allocation speed. V8
 * grows the young generation to 16 MiB semi-spaces during start-up and keeps them: pinning the
 * growth factor to 1 keeps it at its initial size, and optimize-for-size picks the smaller heap
 * strategies. Measured idle (docs/production.md §8): `backwing up` 168–176 → 122–127 MiB RSS, the
 * daemon alone 93–98 → 77–81 MiB. Both flags take effect when set at run time, before the modules
 * load. They may cost some CPU on the daemon's own archive work (a noisy comparison of `archive
 * extract` showed up to ~10% more user time), which is why the one-shot CLI commands don't set them.
 */
const SERVICE_COMMANDS = new Set(['up', 'panel', 'daemon']);
const SERVICE_V8_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'];

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
    if (name !== undefined && SERVICE_COMMANDS.has(name)) for (const flag of SERVICE_V8_FLAGS) setFlagsFromString(flag);
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
