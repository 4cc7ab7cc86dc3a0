/**
 * Test helpers: run `backwing up` as a real child process and the CLI as separate child processes,
 * exactly as a user would, with timeouts on every wait so a broken build fails instead of hanging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const BIN = join(REPO, 'bin', 'backwing.js');

export interface StackInfo {
  panel_url: string;
  daemon_url: string;
  api_key: string;
  node_uuid: string;
  server_identifier: string;
  server_uuid: string;
  admin_email: string;
  admin_password: string;
  data_dir: string;
  first_run: boolean;
}

export interface RunningStack {
  info: StackInfo;
  /** Everything printed on stdout so far (the banner in human mode). */
  stdout: () => string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGINT, then the exit code (fails the test after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/** Settings that keep tests quick and independent of upstream's throttle. */
export const TEST_ENV = { BACKUP_THROTTLE_PERIOD: '0', NO_PROGRESS: '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export async function startUp(opts: {
  dataDir: string;
  cwd?: string;
  command?: string[];
  extraArgs?: string[];
  timeoutMs?: number;
  /** Own process group, and stop() signals the whole group: what Ctrl-C in a terminal does (npm start). */
  group?: boolean;
  /** Human mode: no --json; ready when the banner's last line is out, and info is read from --data. */
  human?: boolean;
}): Promise<RunningStack> {
  const cwd = opts.cwd ?? REPO;
  const cmd = opts.command ?? [process.execPath, join(cwd, 'bin', 'backwing.js'), 'up'];
  const args = [...cmd.slice(1), '--data', opts.dataDir, '--panel-port', '0', '--daemon-port', '0', ...(opts.human ? [] : ['--json']), ...(opts.extraArgs ?? [])];
  const child = spawn(cmd[0]!, args, { cwd, env: { ...process.env, ...TEST_ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.group === true });
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.group) process.kill(-child.pid!, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const info = await new Promise<StackInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`backwing up did not print its JSON line in time; stderr:\n${err}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (opts.human) {
        if (out.includes('Ctrl-C stops both.')) {
          clearTimeout(timer);
          resolve({} as StackInfo);
        }
        return;
      }
      // The JSON line is the first line that is JSON (npm may print its own header first).
      const line = out.split('\n').slice(0, -1).find((l) => l.startsWith('{'));
      if (line !== undefined) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as StackInfo);
        } catch (e) {
          reject(new Error(`stdout line is not JSON: ${line} (${String(e)})`));
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`backwing up exited with ${code} before it was ready; stderr:\n${err}`));
    });
  });
  return {
    info,
    child,
    stdout: () => out,
    stderr: () => err,
    async stop(ms = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      signal('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          signal('SIGKILL');
          reject(new Error(`backwing up did not stop within ${ms} ms after SIGINT; stderr:\n${err}`));
        }, ms);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...TEST_ENV, BACKWING_URL: '', BACKWING_API_KEY: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ms = opts.timeoutMs ?? 60_000;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`backwing ${args.join(' ')} did not finish within ${ms} ms; stderr:\n${stderr}`));
    }, ms);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}

/** The CLI's one JSON document. */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
