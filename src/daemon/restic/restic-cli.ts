/**
 * restic, driven as a child process through its documented CLI. The repository and its password
 * go in the child's environment (`RESTIC_REPOSITORY`, `RESTIC_PASSWORD`, S3 keys as
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), never on the command line (other users can read a
 * process's argv) and never in a log line: errors carry restic's stderr with every secret removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../core/app-error.ts';

/** What a job needs to reach one repository; sent by the panel with each restic job. */
export interface ResticRepo {
  /** A local path, or `s3:https://host/bucket[/prefix]` (restic's own syntax). */
  repository: string;
  password: string;
  s3?: { access_key_id: string; secret_access_key: string; region?: string | null } | null;
}

export interface ResticEnv {
  /** The binary (`restic` on PATH by default). */
  bin: string;
  /** restic's cache, under the daemon's state directory (HOME may not be writable). */
  cacheDir: string;
}

/** The oldest restic this code is tested with: Debian 12's. */
export const RESTIC_MIN_VERSION = [0, 14, 0] as const;

export type ResticFailure = 'missing' | 'wrong_password' | 's3_denied' | 'no_repository' | 'locked' | 'corrupt' | 'disk_full' | 'unreadable_files' | 'empty' | 'failed';

/** Reasons a user reads (stored as the backup's failure reason). */
export const RESTIC_REASONS: Record<ResticFailure, string> = {
  missing: 'restic is not installed on this node (Debian package "restic", version 0.14 or newer)',
  wrong_password: 'the restic repository refused the password (wrong password or no such key)',
  s3_denied: 'the S3 server refused the credentials of the restic repository (wrong access key or secret, or no access to the bucket)',
  no_repository: 'there is no restic repository at the configured location',
  locked: 'the restic repository stayed locked by another job; try again later',
  corrupt: 'the restic repository is damaged (run a repository check)',
  disk_full: 'disk full while writing to the restic repository',
  unreadable_files: "some of the server's files could not be read; the snapshot was discarded",
  empty: 'the ignore rules leave out every file; restic does not save an empty snapshot',
  failed: 'restic failed (details are in the daemon log)',
};

export class ResticError extends AppError {
  constructor(readonly kind: ResticFailure, detail: string, readonly exitCode: number | null = null) {
    super('E_RESTIC', kind === 'locked' ? 409 : 502, RESTIC_REASONS[kind], { meta: { kind, detail } });
    this.name = 'ResticError';
  }
}

/** restic's own (secret-scrubbed) message behind an error, for the daemon log only. */
export function resticDetail(err: unknown): unknown {
  return err instanceof AppError ? err.meta?.detail : undefined;
}

/** Which failure restic's stderr describes (messages as restic 0.14–0.17 print them). */
export function classifyResticError(stderr: string, exitCode: number | null): ResticFailure {
  const s = stderr.toLowerCase();
  if (s.includes('wrong password') || s.includes('no key found')) return 'wrong_password';
  // Before "no repository": restic asks "Is there a repository …?" after any failed first read, a refused signature included.
  if (s.includes('signature we calculated does not match') || s.includes('signaturedoesnotmatch') || s.includes('access key id you provided does not exist') || s.includes('invalidaccesskeyid') || s.includes('access denied')) return 's3_denied';
  if (s.includes('is there a repository at the following location') || s.includes('repository does not exist')) return 'no_repository';
  if (s.includes('repository is already locked') || s.includes('unable to create lock')) return 'locked';
  if (s.includes('no space left on device') || s.includes('disk quota exceeded')) return 'disk_full';
  if (s.includes('repository contains errors') || s.includes('ciphertext verification failed') || s.includes('invalid data returned') || s.includes('is damaged') || s.includes('load <snapshot') || s.includes('loadindex') || s.includes('tree') && s.includes('could not be loaded')) return 'corrupt';
  if (s.includes('snapshot is empty')) return 'empty';
  if (exitCode === 3) return 'unreadable_files';
  return 'failed';
}

function scrub(text: string, repo: ResticRepo | null): string {
  if (!repo) return text;
  let out = text;
  for (const secret of [repo.password, repo.s3?.secret_access_key]) {
    if (secret) out = out.split(secret).join('[redacted]');
  }
  return out.slice(-2000);
}

export interface RunOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Each stdout line that parses as a JSON object. */
  onJson?: (msg: Record<string, unknown>) => void;
  /** Raw stdout (for `dump`): when set, stdout is not parsed. */
  onStdout?: (child: ChildProcess) => void;
  /** The child once spawned (a restore's progress reads its write counter). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function resticChildEnv(env: ResticEnv, repo: ResticRepo | null): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    RESTIC_CACHE_DIR: env.cacheDir,
    // restic asks on a terminal when no password is set; it must never wait for one.
    RESTIC_PASSWORD_COMMAND: '',
    // Status lines twice a second are plenty for a progress bar (restic's default is far more).
    RESTIC_PROGRESS_FPS: '2',
  };
  if (repo) {
    out.RESTIC_REPOSITORY = repo.repository;
    out.RESTIC_PASSWORD = repo.password;
    if (repo.s3) {
      out.AWS_ACCESS_KEY_ID = repo.s3.access_key_id;
      out.AWS_SECRET_ACCESS_KEY = repo.s3.secret_access_key;
      if (repo.s3.region) out.AWS_DEFAULT_REGION = repo.s3.region;
    }
  }
  return out;
}

/** Runs restic once; rejects with a ResticError on a non-zero exit (or a missing binary). */
export function runRestic(env: ResticEnv, repo: ResticRepo | null, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(env.bin, args, { cwd: opts.cwd, env: resticChildEnv(env, repo), stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, killSignal: 'SIGINT' });
    } catch (err) {
      reject(new ResticError('missing', String(err)));
      return;
    }
    let stdout = '';
    let stderr = '';
    let partial = '';
    opts.onSpawn?.(child);
    if (opts.onStdout) opts.onStdout(child);
    else {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        if (!opts.onJson) {
          stdout += chunk;
          return;
        }
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const line of lines) handleLine(line);
      });
    }
    const handleLine = (line: string): void => {
      if (!line.startsWith('{')) {
        stdout += `${line}\n`;
        return;
      }
      try {
        opts.onJson!(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stdout += `${line}\n`;
      }
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-16_384);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new ResticError('missing', `${env.bin}: not found`));
      else if (err.name === 'AbortError') reject(opts.signal?.reason ?? err);
      else reject(new ResticError('failed', scrub(err.message, repo)));
    });
    child.on('close', (code) => {
      if (partial && opts.onJson) handleLine(partial);
      if (opts.signal?.aborted) {
        reject(opts.signal.reason);
        return;
      }
      if (code === 0) resolve({ stdout, stderr, code });
      else reject(new ResticError(classifyResticError(stderr, code), scrub(stderr.trim(), repo), code));
    });
  });
}

/**
 * restic 0.14 has no `--retry-lock`: a job that meets another's lock waits and tries again
 * (1 s, 2 s, 4 s … up to `attempts`). Stale locks are not broken here: that is `unlock`, which
 * only removes locks restic itself judges stale (see ResticService.clearStaleLocks).
 */
export async function withLockRetry<T>(fn: () => Promise<T>, opts: { attempts?: number; baseMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ResticError) || err.kind !== 'locked' || i + 1 >= attempts) throw err;
      await sleep((opts.baseMs ?? 1000) * 2 ** i, undefined, { signal: opts.signal });
    }
  }
}

/** `restic version` → [major, minor, patch], or a ResticError('missing'). */
export async function resticVersion(env: ResticEnv): Promise<{ version: number[]; text: string }> {
  const { stdout } = await runRestic(env, null, ['version']);
  const m = /restic (\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (!m) throw new ResticError('failed', `cannot read the version from: ${stdout.slice(0, 200)}`);
  return { version: [Number(m[1]), Number(m[2]), Number(m[3])], text: stdout.trim() };
}

export function versionAtLeast(v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  }
  return true;
}
