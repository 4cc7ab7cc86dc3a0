/**
 * `backwing panel`: run the panel until SIGINT/SIGTERM. Also home of the config resolution that
 * `backwing admin` shares, so both always agree on which database they open.
 */
import { resolve, join } from 'node:path';
import type { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { isAppError } from '../core/app-error.ts';
import { createLogger } from '../core/logger.ts';
import { CliError } from '../core/cli-error.ts';

export interface PanelConfigOptions {
  config?: string;
  data?: string;
  host?: string;
  port?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Environment (optionally layered over a .env-style file) → PanelConfig. `--data DIR` means the
 * SQLite file `DIR/panel.sqlite`, the same one `backwing up --data DIR` uses.
 */
export async function resolvePanelConfig(opts: PanelConfigOptions, env: NodeJS.ProcessEnv = process.env) {
  const { loadPanelConfig, loadEnvFile } = await import('../panel/config.ts');
  try {
    const merged = opts.config ? loadEnvFile(resolve(opts.config), env) : env;
    const overrides: Record<string, unknown> = {};
    if (opts.data) overrides.databaseUrl = `sqlite:${join(resolve(opts.data), 'panel.sqlite')}`;
    if (opts.port !== undefined && (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535)) {
      throw new CliError(`--port must be a port number (0-65535), got "${opts.port}"`);
    }
    // Through the environment, not overrides, so the default APP_URL follows the chosen host and port.
    const withPort = { ...merged };
    if (opts.port !== undefined) withPort.PANEL_PORT = opts.port;
    if (opts.host) withPort.PANEL_HOST = opts.host;
    return loadPanelConfig(withPort, overrides);
  } catch (err) {
    if (isAppError(err)) throw new CliError(err.message);
    throw err;
  }
}

export function registerPanelCommand(program: Command): void {
  program
    .command('panel')
    .description('Run the panel (client API, application API, remote API for daemons, web UI)')
    .option('--config <envfile>', 'KEY=VALUE file (Laravel .env style); real environment variables win')
    .option('--data <dir>', 'use the SQLite database DIR/panel.sqlite (instead of DATABASE_URL)')
    .option('--host <host>', 'address to listen on (PANEL_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (PANEL_PORT, default 8000; 0 = any free port)')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .action(async (opts: PanelConfigOptions & { logLevel: string }) => {
      if (!LOG_LEVELS.includes(opts.logLevel)) throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${opts.logLevel}"`);
      const config = await resolvePanelConfig(opts);
      const logger = createLogger({ level: opts.logLevel as LevelWithSilent, name: 'panel' });
      const { startPanel } = await import('../panel/main.ts');
      let handle: Awaited<ReturnType<typeof startPanel>>;
      try {
        handle = await startPanel(config, { logger });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new CliError(`cannot listen on ${config.host}:${config.port}: the address is already in use`);
        if (code === 'EACCES') throw new CliError(`cannot listen on ${config.host}:${config.port}: permission denied`);
        if (isAppError(err)) throw new CliError(err.message);
        throw err;
      }
      // One machine-readable line so scripts and tests learn the port when --port 0 was used.
      process.stdout.write(`${JSON.stringify({ event: 'listening', url: handle.url, port: handle.port })}\n`);
      await new Promise<void>((resolveStop) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          logger.info({ signal }, 'panel stopping');
          handle.close().then(() => resolveStop(), (err: unknown) => {
            logger.error({ err }, 'panel close failed');
            process.exitCode = 1;
            resolveStop();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
