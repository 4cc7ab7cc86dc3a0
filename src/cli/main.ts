/**
 * `backwing` — one binary for every role. Each area registers its own subcommands; this file only
 * assembles them, so the daemon and the panel are loaded only when their command runs.
 */
import { Command } from 'commander';
import { registerArchiveCommands } from './archive.command.ts';
import { registerDaemonCommand } from './daemon.command.ts';
import { registerPanelCommand } from './panel.command.ts';
import { registerAdminCommands } from './admin.command.ts';
import { registerUpCommand } from './up.command.ts';
import { registerBackupsCommands } from './backups.command.ts';
import { VERSION } from '../core/version.ts';

const program = new Command();
program
  .name('backwing')
  .description('Backups for game servers: a Pterodactyl-compatible panel and daemon')
  .version(VERSION)
  .showHelpAfterError();

registerUpCommand(program);
registerPanelCommand(program);
registerDaemonCommand(program);
registerAdminCommands(program);
registerBackupsCommands(program);
registerArchiveCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commands throw CliError for expected failures; anything else is still one line, not a trace.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`backwing: ${message}\n`);
  if (process.env.BACKWING_DEBUG) console.error(err);
  process.exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1;
}
