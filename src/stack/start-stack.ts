/**
 * The whole system in one process: panel + one daemon on loopback, SQLite and local disk under
 * --data. Order matters: the panel listens first (the daemon reports to it), then the node's
 * credentials go into the daemon's config, the daemon binds (the real port is only known then),
 * the node row learns that URL, and finally the demo server is created (which needs the daemon).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { isAppError } from '../core/app-error.ts';
import { CliError } from '../core/cli-error.ts';
import { loadPanelConfig } from '../panel/config.ts';
import { startPanel, type PanelHandle } from '../panel/main.ts';
import { startDaemon, type DaemonHandle } from '../daemon/main.ts';
import { acquireDataLock, dataLayout, prepareDataDir, type DataLayout } from './data-layout.ts';
import { readDaemonCredentials, writeDaemonConfig } from './daemon-config-file.ts';
import {
  ADMIN_EMAIL,
  ensureDemoServer,
  ensureIdentity,
  ensureNode,
  ensureNodeUrl,
  readStackState,
  writeStackState,
} from './provision.ts';

export const LOOPBACK = '127.0.0.1';

export interface StackOptions {
  dataDir: string;
  panelPort: number;
  daemonPort: number;
  logger: Logger;
  /** Environment for the panel's settings (throttle, prune age, …); DATABASE_URL is ignored. */
  env?: NodeJS.ProcessEnv;
}

/** The one JSON line `up --json` prints; field names are a contract with scripts and tests. */
export interface StackInfo {
  panel_url: string;
  daemon_url: string;
  api_key: string;
  node_uuid: string;
  server_identifier: string;
  server_uuid: string;
  admin_email: string;
  admin_password: string;
  admin_password_file: string;
  api_key_file: string;
  data_dir: string;
  first_run: boolean;
  /** Whether the panel serves the web UI (it needs `npm run build:web` once). */
  web_ui: boolean;
}

export interface StackHandle {
  info: StackInfo;
  layout: DataLayout;
  /** Stops the daemon first (its jobs end and their reports reach the panel), then the panel. */
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<StackHandle> {
  const layout = dataLayout(opts.dataDir);
  await prepareDataDir(layout);
  const unlock = await acquireDataLock(layout);

  let panel: PanelHandle | undefined;
  let daemon: DaemonHandle | undefined;
  let released = false;
  const close = async () => {
    const d = daemon;
    const p = panel;
    daemon = undefined;
    panel = undefined;
    if (d) await d.close().catch((err: unknown) => opts.logger.error({ err }, 'daemon did not close cleanly'));
    if (p) await p.close().catch((err: unknown) => opts.logger.error({ err }, 'panel did not close cleanly'));
    if (!released) {
      released = true;
      await unlock();
    }
  };

  try {
    // A broken daemon config must fail before anything listens.
    const existingCreds = await readDaemonCredentials(layout);

    const panelPort = opts.panelPort === 0 ? await freePort(LOOPBACK) : await assertPortFree(LOOPBACK, opts.panelPort, '--panel-port');
    if (opts.daemonPort !== 0) await assertPortFree(LOOPBACK, opts.daemonPort, '--daemon-port');

    const panelConfig = asCliError(() =>
      loadPanelConfig(opts.env ?? process.env, {
        databaseUrl: `sqlite:${layout.panelDb}`,
        host: LOOPBACK,
        port: panelPort,
        appUrl: `http://${LOOPBACK}:${panelPort}`,
      }),
    );

    panel = await listening(() => startPanel(panelConfig, { logger: opts.logger.child({ component: 'panel' }) }), panelPort, '--panel-port');
    const services = panel.context.services;
    const state = await readStackState(layout);
    const identity = await ensureIdentity(services, layout);
    const provisional = `http://${LOOPBACK}:${opts.daemonPort || 8080}`;
    const node = await ensureNode(services, state, provisional, existingCreds);
    state.node_uuid = node.uuid;
    await writeStackState(layout, state);

    const daemonConfig = await writeDaemonConfig(layout, node, { host: LOOPBACK, port: opts.daemonPort, remote: panel.url });
    daemon = await listening(() => startDaemon(daemonConfig, { logger: opts.logger.child({ component: 'daemon' }) }), opts.daemonPort, '--daemon-port');
    if (opts.daemonPort === 0) {
      // Keep the file truthful: it names the port this node really listens on.
      await writeDaemonConfig(layout, node, { host: LOOPBACK, port: daemon.port, remote: panel.url });
    }
    await ensureNodeUrl(services, node, daemon.url);

    const server = await ensureDemoServer(services, layout, state, identity.adminId, node.id);
    state.server_uuid = server.uuid;
    await writeStackState(layout, state);

    const info: StackInfo = {
      panel_url: panel.url,
      daemon_url: daemon.url,
      api_key: identity.apiKey,
      node_uuid: node.uuid,
      server_identifier: server.identifier,
      server_uuid: server.uuid,
      admin_email: ADMIN_EMAIL,
      admin_password: identity.adminPassword,
      admin_password_file: layout.adminPasswordFile,
      api_key_file: layout.apiKeyFile,
      data_dir: layout.root,
      first_run: server.created,
      web_ui: panelConfig.webDistDir !== undefined && existsSync(join(panelConfig.webDistDir, 'index.html')),
    };
    return { info, layout, close };
  } catch (err) {
    await close();
    if (err instanceof CliError) throw err;
    if (isAppError(err) && err.code === 'E_CONFIG') throw new CliError(err.message);
    throw err;
  }
}

function asCliError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isAppError(err)) throw new CliError(err.message);
    throw err;
  }
}

/** Turns a bind failure into the one line a person needs. */
async function listening<T>(start: () => Promise<T>, port: number, flag: string): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(portInUse(port, flag));
    if (code === 'EACCES') throw new CliError(`not allowed to listen on port ${port} (${flag}); use a port above 1023 or 0 for any free port`);
    throw err;
  }
}

function portInUse(port: number, flag: string): string {
  return `port ${port} is already in use (${flag}); stop whatever uses it, or pass ${flag} <other port> (0 = any free port)`;
}

/** Binds and releases, so a taken port is reported before the panel or the daemon start. */
export async function assertPortFree(host: string, port: number, flag: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new CliError(portInUse(port, flag)));
      else if (err.code === 'EACCES') reject(new CliError(`not allowed to listen on port ${port} (${flag}); use a port above 1023 or 0 for any free port`));
      else reject(err);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
  return port;
}

/**
 * The panel's public URL (JWT issuer, links) must carry its real port, and the panel's config is
 * fixed before it listens; so for port 0 pick a free port first. The window between release and
 * re-bind is tiny; losing that race is reported like any taken port.
 */
export async function freePort(host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const addr = probe.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
