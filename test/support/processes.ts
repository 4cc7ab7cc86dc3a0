/**
 * Long-running `backwing` commands (panel, daemon) as real child processes: started, waited for
 * until they print their `{"event":"listening"}` line, stopped with SIGTERM (or killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, childEnv } from '../cli-admin/cli-runner.ts';

export interface Running { child: ChildProcess; url: string; stderr: () => string }

/** Starts a long-running backwing command and waits for its `{"event":"listening"}` line. */
export function startProcess(args: string[], env: Record<string, string | undefined>): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args[0]} did not start: ${err}`)); }, 60_000);
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, stderr: () => err });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${args[0]} exited ${code} before listening: ${err}`)); });
  });
}

export function stopProcess(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve(r.child.exitCode);
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 20_000);
    r.child.removeAllListeners('exit');
    r.child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    r.child.kill('SIGTERM');
  });
}
