/**
 * Control through the node admin's own programs (systemd, docker, scripts). Each is an argv list
 * from the daemon config, run without a shell under a timeout; `{uuid}`, `{dir}` and `{command}`
 * inside an argument are replaced, and the server uuid is appended when no argument names it.
 * Panel users can never set these: they exist only in the config file.
 */
import { execFile } from 'node:child_process';
import type { ExecSettings } from './control-config.ts';
import { ControlError, type CommandBackend, type CommandOptions, type PowerBackend, type PowerState, type ServerRef } from './types.ts';

/** What `systemctl is-active`, `docker inspect -f {{.State.Status}}` and plain scripts print. */
const STATE_WORDS: Record<string, PowerState> = {
  running: 'running', active: 'running', online: 'running', up: 'running',
  starting: 'starting', activating: 'starting', restarting: 'starting', reloading: 'starting',
  stopping: 'stopping', deactivating: 'stopping', removing: 'stopping',
  offline: 'offline', inactive: 'offline', failed: 'offline', exited: 'offline', dead: 'offline', stopped: 'offline', created: 'offline', paused: 'offline',
};

export function parseStateOutput(stdout: string): PowerState | null {
  const word = stdout.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return STATE_WORDS[word] ?? null;
}

export function expandArgv(template: readonly string[], vars: { uuid: string; dir: string; command?: string }): string[] {
  const names = template.join('\0');
  const out = template.map((a) => a.replace(/\{(uuid|dir|command)\}/g, (_m, k: 'uuid' | 'dir' | 'command') => vars[k] ?? ''));
  if (!names.includes('{uuid}')) out.push(vars.uuid);
  if (vars.command !== undefined && !names.includes('{command}')) out.push(vars.command);
  return out;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `role` names the program in messages (they become user-visible failure reasons: no paths). */
function run(role: string, argv: string[], timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, shell: false, windowsHide: true, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') {
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (signal?.aborted) return reject(signal.reason);
        if (e.killed) return reject(new ControlError(`the ${role} command did not finish within ${Math.round(timeoutMs / 1000)} s`));
        return reject(new ControlError(`the ${role} command could not be run (${e.code ?? 'error'})`));
      }
      resolve({ code: err ? Number((err as { code: number }).code) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export class ExecControl implements CommandBackend, PowerBackend {
  constructor(private readonly settings: ExecSettings) {}

  async state(server: ServerRef, signal?: AbortSignal): Promise<PowerState> {
    const r = await run('state', expandArgv(this.settings.state!, server), this.settings.timeoutMs, signal);
    // `systemctl is-active` exits 3 for inactive: the printed word decides, not the exit code.
    const state = parseStateOutput(r.stdout);
    if (!state) throw new ControlError(`the state command printed no known state (exit ${r.code})`);
    return state;
  }

  async power(server: ServerRef, action: 'start' | 'stop', signal?: AbortSignal): Promise<void> {
    const r = await run(action, expandArgv(action === 'start' ? this.settings.start! : this.settings.stop!, server), this.settings.timeoutMs, signal);
    if (r.code !== 0) throw new ControlError(`the ${action} command failed (exit ${r.code})`);
  }

  async send(server: ServerRef, command: string, opts: CommandOptions): Promise<string> {
    const r = await run('console', expandArgv(this.settings.command!, { ...server, command }), Math.min(opts.timeoutMs, this.settings.timeoutMs), opts.signal);
    if (r.code !== 0) throw new ControlError(`the console command failed (exit ${r.code})`);
    if (opts.expect && !opts.expect.test(r.stdout)) throw new ControlError(`the game did not confirm "${command}"`);
    return r.stdout;
  }
}
