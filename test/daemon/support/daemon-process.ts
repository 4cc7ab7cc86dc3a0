/** Runs the real daemon as a child process (`node bin/backwing.js daemon`) on 127.0.0.1:0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface DaemonProcess {
  url: string;
  /** The whole `listening` line. */
  listening: { url: string; port: number; metrics_url?: string };
  proc: ChildProcess;
  root: string;
  data: string;
  backups: string;
  state: string;
  stderr(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export interface DaemonProcessOptions {
  root: string;
  panelUrl: string;
  token: string;
  tokenId: string;
  allowlist?: string[];
  writeLimitMiB?: number;
  logLevel?: string;
  s3MaxPartSizeMiB?: number;
  extra?: Record<string, unknown>;
  /** Merged into the `system:` section (e.g. `user: {uid, gid}`). */
  system?: Record<string, unknown>;
}

export function writeDaemonConfig(o: DaemonProcessOptions): string {
  const data = join(o.root, 'volumes');
  const backups = join(o.root, 'backups');
  mkdirSync(data, { recursive: true });
  const doc: Record<string, unknown> = {
    uuid: 'test-node',
    token_id: o.tokenId,
    token: o.token,
    api: { host: '127.0.0.1', port: 0 },
    remote: o.panelUrl,
    system: {
      root_directory: o.root,
      data,
      backup_directory: backups,
      backups: {
        write_limit: o.writeLimitMiB ?? 0,
        compression_level: 'best_speed',
        restore_host_allowlist: o.allowlist ?? ['127.0.0.1'],
        s3_part_concurrency: 2,
        ...(o.s3MaxPartSizeMiB ? { s3_max_part_size: o.s3MaxPartSizeMiB } : {}),
        restore_idle_timeout: 2,
      },
      ...o.system,
    },
    remote_query: { timeout: 5 },
    ...o.extra,
  };
  const path = join(o.root, 'config.yml');
  writeFileSync(path, stringify(doc));
  return path;
}

export async function startDaemonProcess(o: DaemonProcessOptions): Promise<DaemonProcess> {
  const configPath = writeDaemonConfig(o);
  const proc = await spawnDaemon(['--config', configPath], o.logLevel);
  return { ...proc, root: o.root, data: join(o.root, 'volumes'), backups: join(o.root, 'backups'), state: join(o.root, 'state') };
}

/** The daemon as a sidecar beside Wings: `backwing daemon --wings-config <file> …`. */
export async function startSidecarProcess(wingsConfig: string, args: string[] = [], opts: { env?: Record<string, string>; logLevel?: string } = {}): Promise<Omit<DaemonProcess, 'root' | 'data' | 'backups' | 'state'>> {
  return spawnDaemon(['--wings-config', wingsConfig, ...args], opts.logLevel, opts.env);
}

async function spawnDaemon(args: string[], logLevel?: string, env: Record<string, string> = {}): Promise<Omit<DaemonProcess, 'root' | 'data' | 'backups' | 'state'>> {
  const proc = spawn(process.execPath, [join(REPO, 'bin/backwing.js'), 'daemon', ...args, '--log-level', logLevel ?? process.env.DAEMON_LOG_LEVEL ?? 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (process.env.DAEMON_STDERR) process.stderr.write(c);
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const listening = await new Promise<DaemonProcess['listening']>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start in time; stderr:\n${err}`)), 30_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as DaemonProcess['listening']);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before listening; stderr:\n${err}`));
    });
  });
  return {
    url: listening.url,
    listening,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
