import type { Command } from 'commander';
import { CliError } from '../core/cli-error.ts';
import { isAppError } from '../core/app-error.ts';
import type { LevelWithSilent } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('Run the node daemon (Wings-compatible backup API) until SIGINT/SIGTERM')
    .requiredOption('-c, --config <file>', 'daemon config (YAML)')
    .option('--log-level <level>', `log level (${LEVELS.join(', ')})`)
    .action(async (options: { config: string; logLevel?: string }) => {
      if (options.logLevel && !LEVELS.includes(options.logLevel)) throw new CliError(`unknown log level "${options.logLevel}"`);
      const { loadDaemonConfig } = await import('../daemon/config.ts');
      const { startDaemon } = await import('../daemon/main.ts');
      const { createLogger } = await import('../core/logger.ts');
      let config;
      try {
        config = loadDaemonConfig(options.config);
      } catch (err) {
        if (isAppError(err)) throw new CliError(err.message, 2);
        throw err;
      }
      const logger = createLogger({ name: 'daemon', level: options.logLevel as LevelWithSilent | undefined });
      const handle = await startDaemon(config, { logger });
      // One machine-readable line so scripts and tests learn the port when api.port is 0.
      process.stdout.write(`${JSON.stringify({ event: 'listening', url: handle.url, port: handle.port, ...(handle.metricsUrl ? { metrics_url: handle.metricsUrl } : {}) })}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void handle.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
