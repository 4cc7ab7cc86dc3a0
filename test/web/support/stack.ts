/** The real stack, started the way a user starts it: `backwing up --json` in a child process. */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { REPO } from './build.ts';

const execFileP = promisify(execFile);

export interface UpInfo {
  panel_url: string;
  daemon_url: string;
  api_key: string;
  node_uuid: string;
  server_identifier: string;
  server_uuid: string;
  admin_email: string;
}

export interface Stack extends UpInfo {
  dataDir: string;
  adminPassword: string;
  /** The demo server's files on disk, as the daemon sees them. */
  serverDir: string;
  stderr: () => string;
  stop(): Promise<void>;
  /** Stops the processes but keeps --data, for a restart with edited config. */
  halt(): Promise<void>;
}

const BIN = join(REPO, 'bin/backwing.js');

/** `opts.dataDir`: run on an existing --data directory (a restart), which stop() then leaves in place. */
export async function startStack(env: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<Stack> {
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'backwing-web-'));
  const removeData = () => (opts.dataDir ? Promise.resolve() : rm(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BIN, 'up', '--data', dataDir, '--panel-port', '0', '--daemon-port', '0', '--json', '--log-level', 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20000); });
  try {
    const info = await firstJsonLine(child, 60_000, () => err);
    const adminPassword = (await readFile(join(dataDir, 'admin-password.txt'), 'utf8')).trim();
    return {
      ...info,
      dataDir,
      adminPassword,
      serverDir: join(dataDir, 'volumes', info.server_uuid),
      stderr: () => err,
      stop: () => stopChild(child).finally(removeData),
      halt: () => stopChild(child),
    };
  } catch (e) {
    await stopChild(child);
    await removeData();
    throw e;
  }
}

function firstJsonLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<UpInfo> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error(`backwing up printed no JSON line within ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
    const fail = (e: Error) => { clearTimeout(timer); rl.close(); reject(e); };
    child.once('exit', (code) => fail(new Error(`backwing up exited with ${code} before it was ready\n${stderr()}`)));
    rl.on('line', (line) => {
      const t = line.trim();
      if (!t.startsWith('{')) return;
      try {
        const info = JSON.parse(t) as UpInfo;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        // Keep draining stdout so the child never blocks on a full pipe.
        rl.removeAllListeners('line');
        resolve(info);
      } catch (e) {
        fail(e as Error);
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Runs `backwing <args>` against the same --data directory (admin commands use the same SQLite file). */
export async function backwing(args: string[]): Promise<string> {
  const { stdout } = await execFileP(process.execPath, [BIN, ...args], {
    cwd: REPO,
    timeout: 60_000,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return stdout;
}

/** Client API call with the stack's API key (for setup steps that are not what the test is about). */
export async function clientApi<T = unknown>(stack: Stack, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(new URL(path, stack.panel_url), {
    method,
    headers: {
      Authorization: `Bearer ${stack.api_key}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Restarts a halted stack with `system.backups.write_limit` set (MiB/s), so jobs run long enough to watch. */
export async function restartWithWriteLimit(stack: Stack, mib: number, env: Record<string, string> = {}): Promise<Stack> {
  await stack.halt();
  const file = join(stack.dataDir, 'daemon', 'config.yml');
  const doc = parseYaml(await readFile(file, 'utf8')) as { system: { backups: Record<string, unknown> } };
  doc.system.backups.write_limit = mib;
  await writeFile(file, stringifyYaml(doc));
  return startStack(env, { dataDir: stack.dataDir });
}
