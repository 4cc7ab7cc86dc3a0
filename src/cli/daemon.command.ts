import type { Command } from 'commander';
import { CliError } from '../core/cli-error.ts';
import { isAppError } from '../core/app-error.ts';
import type { LevelWithSilent } from 'pino';
import type { DaemonConfig } from '../daemon/config.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface SidecarFlags {
  wingsConfig?: string | true;
  listen?: string;
  layout?: string;
  controlConfig?: string;
}

/** `[host:]port` → parts; one clear line otherwise. */
function parseListen(v: string): { host?: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new CliError(`--listen must be [host:]port, got "${v}"`, 2);
  return m[1] ? { host: m[1], port } : { port };
}

/**
 * The config from --config (backwing's own) or --wings-config (sidecar beside Wings): exit 2 when
 * unusable. `withControl`: read the sidecar's control file (`daemon adopt` controls nothing).
 */
async function loadConfig(o: SidecarFlags & { config?: string }, withControl = true): Promise<DaemonConfig> {
  if (o.config && o.wingsConfig) throw new CliError('give either --config or --wings-config, not both', 2);
  if (!o.config && !o.wingsConfig) throw new CliError('give --config <file> (backwing daemon) or --wings-config [file] (sidecar beside Wings)', 2);
  if (o.layout !== undefined && o.layout !== 'flat' && o.layout !== 'per-server') throw new CliError(`--layout must be flat or per-server, got "${o.layout}"`, 2);
  try {
    if (o.config) {
      if (o.listen || o.layout || o.controlConfig) throw new CliError('--listen, --layout and --control-config go with --wings-config', 2);
      const { loadDaemonConfig } = await import('../daemon/config.ts');
      return loadDaemonConfig(o.config);
    }
    const { loadWingsConfig, defaultWingsConfigPath, defaultControlConfigPath, readControlFile } = await import('../daemon/wings-config.ts');
    const path = o.wingsConfig === true ? defaultWingsConfigPath() : o.wingsConfig!;
    const controlPath = withControl ? (o.controlConfig ?? defaultControlConfigPath()) : null;
    return loadWingsConfig(path, {
      ...(controlPath ? { control: readControlFile(controlPath) } : {}),
      ...(o.listen ? { listen: parseListen(o.listen) } : {}),
      ...(o.layout ? { layout: o.layout as 'flat' | 'per-server' } : {}),
    });
  } catch (err) {
    if (isAppError(err)) throw new CliError(err.message, 2);
    throw err;
  }
}

export function registerDaemonCommand(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('Run the node daemon (Wings-compatible backup API) until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'daemon config (YAML)')
    .option('--wings-config [file]', "run as a sidecar beside Wings, configured from Wings' config.yml (default /etc/pterodactyl/config.yml, else /etc/pelican/config.yml)")
    .option('--listen <[host:]port>', "with --wings-config: where the sidecar listens (default 127.0.0.1, Wings' port + 1)")
    .option('--layout <layout>', 'with --wings-config: flat (Pterodactyl) or per-server (Pelican) backup directory; detected from the config')
    .option('--control-config <file>', "with --wings-config: backwing's control settings (save hooks, RCON; the control: section only), since Wings rewrites its own file (default /etc/backwing/control.yml when it exists)")
    .option('--log-level <level>', `log level (${LEVELS.join(', ')})`)
    .action(async (options: SidecarFlags & { config?: string; logLevel?: string }) => {
      if (options.logLevel && !LEVELS.includes(options.logLevel)) throw new CliError(`unknown log level "${options.logLevel}"`);
      const config = await loadConfig(options);
      const { startDaemon } = await import('../daemon/main.ts');
      const { createLogger } = await import('../core/logger.ts');
      const logger = createLogger({ name: 'daemon', level: options.logLevel as LevelWithSilent | undefined });
      if (config.wings) logger.info({ wings_config: config.wings.configPath, control_config: config.wings.controlPath ?? null, flavor: config.wings.flavor, wings_api: config.wings.api.url, layout: config.system.backupLayout }, 'running as a sidecar beside Wings');
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

  daemon
    .command('adopt')
    .description("Claim every archive in Wings' backup directory (sidecars only; archives are never modified)")
    .option('--wings-config [file]', "Wings' config.yml (default /etc/pterodactyl/config.yml, else /etc/pelican/config.yml)")
    .option('--layout <layout>', 'flat (Pterodactyl) or per-server (Pelican); detected from the config')
    .option('--dry-run', 'read and report only; write nothing')
    .option('--json', 'print the report as JSON')
    .action(async (own: SidecarFlags & { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      // `daemon` has the same flags and commander lets it take them: read both levels.
      const o = { ...(cmd.parent?.opts() as SidecarFlags & { config?: string }), ...own };
      if (o.config) throw new CliError('adopt reads Wings\' config: use --wings-config', 2);
      o.wingsConfig ??= true;
      const config = await loadConfig(o, false);
      const { BackupStore } = await import('../daemon/services/backup-store.ts');
      const { adoptBackups, formatAdoptReport } = await import('../daemon/services/adopt.ts');
      const store = new BackupStore(config.system.backupDirectory, config.system.backupLayout);
      let report;
      try {
        report = await adoptBackups(store, { dryRun: o.dryRun === true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new CliError(`adopt: cannot read ${config.system.backupDirectory} (${code ?? (err as Error).message})`);
      }
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatAdoptReport(report));
    });
}
