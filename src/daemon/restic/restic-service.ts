/**
 * The daemon's restic jobs: back a server's directory up into a repository, find a backup's
 * snapshot, restore it into a staging directory, stream it as tar, forget it, clear stale locks.
 * Snapshots are tagged `server:<uuid>` and `backup:<uuid>` and taken from inside the server's
 * directory (`restic backup .`), so a snapshot's root is the server's root on any node: node B
 * restores what node A backed up by tag alone.
 */
import { realpath } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import type { IndexEntry } from '../../archive/index.ts';
import { entryOfResticNode } from './restic-tree.ts';
import { sampleWrites } from './restore-progress.ts';
import { resticExcludes } from '../../archive/ignore-rules-restic.ts';
import { readPteroignoreFile } from '../services/pteroignore.ts';
import { ResticError, resticVersion, runRestic, versionAtLeast, withLockRetry, RESTIC_MIN_VERSION, type ResticEnv, type ResticRepo } from './restic-cli.ts';

/** Every snapshot is taken under this host name, so restic finds the parent on any node. */
export const RESTIC_HOST = 'backwing';

export interface ResticProgress {
  bytesDone: number;
  totalBytes: number | null;
  filesDone: number;
}

export interface ResticBackupResult {
  snapshotId: string;
  bytesAdded: number;
  bytesRead: number;
  files: number;
  /** Bytes the repository holds for this server's snapshots (deduplicated, as stored). */
  repositorySize: number | null;
}

/** A restore's bytes written so far against the bytes it will write (null: not known yet). */
export type RestoreProgressFn = (bytesDone: number, totalBytes: number | null) => void;

/** restic prints JSON status lines for `restore --json` from this version on. */
const RESTORE_JSON_VERSION = [0, 16, 0] as const;

export const serverTag = (serverUuid: string): string => `server:${serverUuid}`;
export const backupTag = (backupUuid: string): string => `backup:${backupUuid}`;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export class ResticService {
  #checked: Promise<string> | null = null;
  /** The version found by check(), e.g. [0, 14, 0]. */
  #version: number[] = [0, 0, 0];
  /** Repositories whose stale locks this process has cleared (once each, before its first job). */
  readonly #unlocked = new Set<string>();

  constructor(readonly env: ResticEnv, private readonly opts: { lockAttempts?: number; lockBaseMs?: number } = {}) {}

  /** The version line, or a ResticError('missing') naming what is wrong. Checked once per process. */
  check(): Promise<string> {
    this.#checked ??= resticVersion(this.env).then(({ version, text }) => {
      if (!versionAtLeast(version, RESTIC_MIN_VERSION)) throw new ResticError('missing', `${text} is older than ${RESTIC_MIN_VERSION.join('.')}`);
      this.#version = version;
      return text;
    });
    // A failed check may be fixed by installing restic: try again next time.
    this.#checked.catch(() => (this.#checked = null));
    return this.#checked;
  }

  #locked<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withLockRetry(fn, { attempts: this.opts.lockAttempts, baseMs: this.opts.lockBaseMs, signal });
  }

  /** Creates the repository when there is none yet (the panel generated its password). */
  async #ensureRepository(repo: ResticRepo, signal?: AbortSignal): Promise<void> {
    try {
      await runRestic(this.env, repo, ['cat', 'config'], { signal });
    } catch (err) {
      if (!(err instanceof ResticError) || err.kind !== 'no_repository') throw err;
      await runRestic(this.env, repo, ['init'], { signal });
    }
    await this.#clearStaleOnce(repo);
  }

  /**
   * The daemon holds no repository credentials between jobs, so "on start" means before the first
   * job on each repository after a (re)start: a restic killed with a crashed daemon left its lock.
   */
  async #clearStaleOnce(repo: ResticRepo): Promise<void> {
    if (this.#unlocked.has(repo.repository)) return;
    await this.clearStaleLocks(repo);
    this.#unlocked.add(repo.repository);
  }

  async backup(serverDir: string, serverUuid: string, backupUuid: string, ignore: string, repo: ResticRepo, signal: AbortSignal, onProgress: (p: ResticProgress) => void): Promise<ResticBackupResult> {
    await this.check();
    // restic matches excludes against the path it reads, which is the real one.
    const root = await realpath(serverDir);
    const pteroignore = await readPteroignoreFile(root);
    if (pteroignore.state === 'too_large') throw new ResticError('failed', '.pteroignore is larger than 32 KiB');
    const excludes = resticExcludes(root, { text: pteroignore.text, source: '.pteroignore' }, { text: ignore, source: 'ignore' });
    await this.#ensureRepository(repo, signal);
    let summary: Record<string, unknown> | null = null;
    const args = ['backup', '--json', '--host', RESTIC_HOST, '--tag', `${serverTag(serverUuid)},${backupTag(backupUuid)}`, ...excludes.flatMap((e) => ['--exclude', e]), '.'];
    const run = () =>
      runRestic(this.env, repo, args, {
        cwd: root,
        signal,
        onJson: (m) => {
          if (m.message_type === 'status') onProgress({ bytesDone: num(m.bytes_done), totalBytes: typeof m.total_bytes === 'number' ? m.total_bytes : null, filesDone: num(m.files_done) });
          else if (m.message_type === 'summary') summary = m;
        },
      });
    try {
      await this.#locked(run, signal);
    } catch (err) {
      // Exit 3: a snapshot was written without some files. It is not a good backup; drop it.
      const partial = summary as Record<string, unknown> | null;
      if (err instanceof ResticError && err.exitCode === 3 && partial && typeof partial.snapshot_id === 'string') {
        await this.#locked(() => runRestic(this.env, repo, ['forget', partial.snapshot_id as string])).catch(() => undefined);
      }
      throw err;
    }
    const s = summary as Record<string, unknown> | null;
    if (!s || typeof s.snapshot_id !== 'string') throw new ResticError('failed', 'restic printed no summary');
    const repositorySize = await this.serverSize(repo, serverUuid).catch(() => null);
    return {
      snapshotId: s.snapshot_id,
      bytesAdded: num(s.data_added),
      bytesRead: num(s.total_bytes_processed),
      files: num(s.total_files_processed),
      repositorySize,
    };
  }

  /** Stored bytes of all of the server's snapshots (blobs counted once). */
  async serverSize(repo: ResticRepo, serverUuid: string): Promise<number> {
    const { stdout } = await this.#locked(() => runRestic(this.env, repo, ['stats', '--json', '--mode', 'raw-data', '--tag', serverTag(serverUuid)]));
    return num((JSON.parse(stdout) as Record<string, unknown>).total_size);
  }

  /** The full id of a backup's snapshot, only if it is `serverUuid`'s; null when there is none. */
  async findSnapshot(repo: ResticRepo, serverUuid: string, backupUuid: string, signal?: AbortSignal): Promise<{ id: string; size: number | null } | null> {
    await this.check();
    await this.#clearStaleOnce(repo);
    const { stdout } = await this.#locked(() => runRestic(this.env, repo, ['snapshots', '--json', '--tag', `${serverTag(serverUuid)},${backupTag(backupUuid)}`], { signal }), signal);
    const list = JSON.parse(stdout || '[]') as Array<{ id: string; summary?: { total_bytes_processed?: number } }>;
    const last = list[list.length - 1];
    return last ? { id: last.id, size: null } : null;
  }

  /**
   * `restic restore` of a snapshot (or, with `includes`, of those `--include` patterns only) into
   * `target`, a fresh, empty directory. Progress: restic's own JSON status from 0.16 on; before
   * that the child's write counter (restore-progress.ts) against `totalBytes`.
   */
  async restoreInto(repo: ResticRepo, snapshotId: string, target: string, signal: AbortSignal, opts: { includes?: string[]; totalBytes?: number | null; onProgress?: RestoreProgressFn } = {}): Promise<void> {
    await this.check();
    const json = versionAtLeast(this.#version, RESTORE_JSON_VERSION);
    const args = ['restore', snapshotId, '--target', target, ...(opts.includes ?? []).flatMap((p) => ['--include', p]), ...(json ? ['--json'] : [])];
    const report = opts.onProgress;
    let stopSampling = (): void => undefined;
    const run = () =>
      runRestic(this.env, repo, args, {
        signal,
        onJson: (m) => {
          if (report && m.message_type === 'status') report(num(m.bytes_restored), typeof m.total_bytes === 'number' ? m.total_bytes : (opts.totalBytes ?? null));
        },
        onSpawn: (child) => {
          stopSampling();
          if (!report || json || child.pid === undefined) return;
          stopSampling = sampleWrites(child.pid, 500, (bytes) => report(bytes, opts.totalBytes ?? null));
        },
      });
    try {
      await this.#locked(run, signal);
    } finally {
      stopSampling();
    }
  }

  /** What restoring the snapshot writes: `restic stats --mode restore-size` (bytes and files). */
  async restoreSize(repo: ResticRepo, snapshotId: string, signal?: AbortSignal): Promise<{ bytes: number; files: number }> {
    const { stdout } = await this.#locked(() => runRestic(this.env, repo, ['stats', '--json', '--mode', 'restore-size', snapshotId], { signal }), signal);
    const s = JSON.parse(stdout) as Record<string, unknown>;
    return { bytes: num(s.total_size), files: num(s.total_file_count) };
  }

  /** Every entry of a snapshot (`restic ls --json`), in restic's order, paths relative to the server's root. */
  async list(repo: ResticRepo, snapshotId: string, signal?: AbortSignal): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    const run = () => {
      entries.length = 0;
      return runRestic(this.env, repo, ['ls', '--json', snapshotId], {
        signal,
        onJson: (m) => {
          const e = entryOfResticNode(m, entries.length);
          if (e) entries.push(e);
        },
      });
    };
    await this.#locked(run, signal);
    return entries;
  }

  /**
   * `restic dump`: the child, whose stdout is the whole snapshot as tar (`path` '' or a folder:
   * `--archive tar`, names relative to the server's root) or one file's bytes.
   */
  dumpTar(repo: ResticRepo, snapshotId: string, signal: AbortSignal, onChild: (child: ChildProcess) => void, path = ''): Promise<void> {
    return runRestic(this.env, repo, ['dump', '--archive', 'tar', snapshotId, `/${path}`], { signal, onStdout: onChild }).then(() => undefined);
  }

  /** Forgets every snapshot of one backup (normally one). Data goes at the next prune. */
  async forget(repo: ResticRepo, serverUuid: string, backupUuid: string): Promise<number> {
    await this.check();
    const found = await this.findSnapshot(repo, serverUuid, backupUuid);
    if (!found) return 0;
    await this.#locked(() => runRestic(this.env, repo, ['forget', found.id]));
    return 1;
  }

  async prune(repo: ResticRepo): Promise<void> {
    await this.#locked(() => runRestic(this.env, repo, ['prune']));
  }

  /** `restic check --read-data-subset=<subset>`: resolves when the repository is sound. */
  async checkRepository(repo: ResticRepo, subset: string): Promise<void> {
    await this.#locked(() => runRestic(this.env, repo, ['check', `--read-data-subset=${subset}`]));
  }

  /**
   * `restic unlock` without `--remove-all`: restic removes only locks it judges stale (older than
   * 30 minutes without refresh, or from a process on this host that no longer exists). A lock of
   * a job running elsewhere — another node sharing the repository — stays.
   */
  async clearStaleLocks(repo: ResticRepo): Promise<void> {
    await runRestic(this.env, repo, ['unlock']);
  }
}
