/**
 * Verification (issue 17): a stored archive read back from where it lives — this node's disk, or
 * an S3 object through a presigned GET the panel signs — hashed and walked to the end. Nothing is
 * written. Verifications run one at a time on a node (a queue), so a schedule re-verifying every
 * backup never has two reads competing with each other or with the game's disk.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkArchive, createArchiveFile, type CheckExpectation, type CheckOptions, type CheckOutcome, type CreateOptions, type CreateResult } from '../../archive/index.ts';
import { ReadBehind, type MemberWritten, type ReadBehindOutcome } from '../../archive/check-behind.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { Logger } from '../../core/logger.ts';
import type { DaemonVerifyRequest, DaemonVerifyResult } from '../../wire/daemon-api.ts';
import type { DaemonConfig } from '../config.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import type { BackupStore } from './backup-store.ts';
import { checkUrl, guardedGet, HostAllowlist } from './ssrf-guard.ts';

/** A verification that found the stored archive damaged: the backup fails with this reason. */
export class VerificationFailed extends Error {
  constructor(readonly reason: string) {
    super(`verification failed: ${reason}`);
    this.name = 'VerificationFailed';
  }
}

/** Seams for tests that damage an archive between its writing and its read-back. Never set outside tests. */
export const verifyTestHooks: {
  /** Before a stored archive is opened at its path to be read (a backup's final look, on demand, scheduled). */
  beforeReadBack?: (path: string) => void;
  /** During a local backup: a gzip member is in the (temporary) file and is about to be read back. */
  beforeMemberReadBack?: (tmpPath: string, m: MemberWritten) => void;
} = {};

type Opened = { fh: FileHandle } | { damaged: CheckOutcome & { good: false } };

/** Opens a stored archive without following a link; missing or not a file is damage, not an error. */
async function openStored(path: string): Promise<Opened> {
  verifyTestHooks.beforeReadBack?.(path);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { damaged: { good: false, reason: 'the archive is missing from the node', size: 0 } };
    if (code === 'ELOOP') return { damaged: { good: false, reason: 'the archive has been replaced by a symbolic link', size: 0 } };
    throw err;
  }
  return { fh };
}

const readStream = (fh: FileHandle) => fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 });

/** Reads the local archive at `path` back (no link followed); a missing file is a damaged backup. */
export async function checkLocalArchive(path: string, expect: CheckExpectation, opts: CheckOptions = {}): Promise<CheckOutcome> {
  const o = await openStored(path);
  if ('damaged' in o) return o.damaged;
  try {
    const st = await o.fh.stat();
    if (!st.isFile()) return { good: false, reason: 'the archive is not a regular file', size: 0 };
    return await checkArchive(readStream(o.fh), expect, opts);
  } finally {
    await o.fh.close();
  }
}

/**
 * Writes a local backup's archive to `dest` and verifies it before it is reported (issue 17): each
 * gzip member is read back from the file as soon as it is stored, on a thread of its own, while
 * later ones are still being made (src/archive/check-behind.ts says why that proves what a
 * read-back afterwards did). The checksum in the result is computed from the stored bytes.
 * Damage throws VerificationFailed; the caller removes the archive, as for any failed backup.
 */
export async function createVerifiedArchiveFile(root: string, dest: string, opts: CreateOptions): Promise<CreateResult> {
  const checksumType = opts.checksum ?? 'sha256';
  const behind = new ReadBehind({ checksumType, beforeMember: verifyTestHooks.beforeMemberReadBack });
  try {
    const result = await createArchiveFile(root, dest, { ...opts, hashOutput: false }, { wrapOutput: (file, tmp) => behind.wrap(file, tmp) });
    const read = await behind.finish(result.size);
    if (!read.good) throw new VerificationFailed(read.reason);
    const stored = await confirmStored(dest, read, opts.signal);
    if (!stored.good) throw new VerificationFailed(stored.reason);
    return { ...result, checksum: read.checksum, checksumType };
  } finally {
    await behind.close();
  }
}

/**
 * The last look, at the final path: the very file whose members were read back, of the size
 * written, not modified since (size and mtime as the read-back left them). Anything else — another
 * file put there, a write after the read-back — and the file is read back whole once more against
 * the checksum of the bytes that were checked.
 */
async function confirmStored(dest: string, read: ReadBehindOutcome & { good: true }, signal?: AbortSignal): Promise<CheckOutcome> {
  const o = await openStored(dest);
  if ('damaged' in o) return o.damaged;
  try {
    const st = await o.fh.stat();
    if (!st.isFile()) return { good: false, reason: 'the archive is not a regular file', size: 0 };
    if (st.size !== read.size) return { good: false, reason: `the stored archive is ${st.size} bytes, the backup wrote ${read.size}`, size: st.size };
    const same = st.dev === read.stat.dev && st.ino === read.stat.ino && st.mtimeMs === read.stat.mtimeMs;
    if (same) return { good: true, size: read.size, checksumType: read.checksumType, checksum: read.checksum, members: read.members, entries: read.entries };
    return await checkArchive(readStream(o.fh), { size: read.size, checksumType: read.checksumType, checksum: read.checksum }, { signal });
  } finally {
    await o.fh.close();
  }
}

function checksumTypeOf(t: unknown): 'sha256' | 'sha1' | null {
  return t === 'sha256' || t === 'sha1' ? t : null;
}

export interface VerifyServiceDeps {
  config: DaemonConfig;
  store: BackupStore;
  logger: Logger;
  /** Backups running on this node now; a scheduled verification waits while there are any. */
  runningBackups: () => number;
}

/** How often a held verification looks again whether the node's backups have finished. */
const HOLD_POLL_MS = 500;

export class VerifyService {
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  readonly #allowlist: HostAllowlist;
  readonly #closing = new AbortController();

  constructor(private readonly deps: VerifyServiceDeps) {
    this.#allowlist = new HostAllowlist(deps.config.system.backups.restoreHostAllowlist);
  }

  /** Verifications queued or running on this node. */
  get pending(): number {
    return this.#waiting;
  }

  /** Checks the request at once (a real 4xx), then waits its turn and reads the archive. */
  async verify(serverUuid: string, rawBackup: string, req: DaemonVerifyRequest): Promise<DaemonVerifyResult> {
    const uuid = canonicalUuid(rawBackup);
    if (!uuid) throw daemonErrors.badUuid();
    if (req.adapter !== 'wings' && req.adapter !== 's3') throw daemonErrors.badAdapter();
    if (req.adapter === 's3') {
      if (typeof req.download_url !== 'string' || req.download_url === '') throw daemonErrors.badRequest('A download_url is required to verify an S3 backup.');
      checkUrl(req.download_url);
    }
    const expect: CheckExpectation = {
      size: typeof req.size === 'number' && req.size > 0 ? req.size : null,
      checksumType: checksumTypeOf(req.checksum_type),
      checksum: typeof req.checksum === 'string' && req.checksum !== '' ? req.checksum : null,
    };
    const limit = typeof req.read_limit === 'number' && req.read_limit > 0 ? req.read_limit : this.deps.config.system.backups.verifyReadLimit;
    const started = Date.now();
    this.#waiting++;
    const opts = { signal: this.#closing.signal, readLimit: limit, ...(req.yield_to_backups === true ? { beforeChunk: () => this.#holdForBackups() } : {}) };
    const run = this.#queue.then(() => this.#check(serverUuid, uuid, req, expect, opts));
    this.#queue = run.catch(() => undefined);
    let outcome: CheckOutcome;
    try {
      outcome = await run;
    } finally {
      this.#waiting--;
    }
    const result: DaemonVerifyResult = outcome.good
      ? { result: 'good', reason: null, size: outcome.size, checksum: outcome.checksum, checksum_type: outcome.checksumType, entries: outcome.entries, duration_ms: Date.now() - started }
      : { result: 'damaged', reason: outcome.reason, size: outcome.size, checksum: null, checksum_type: null, entries: null, duration_ms: Date.now() - started };
    this.deps.logger.info({ backup_uuid: uuid, server_uuid: serverUuid, result: result.result, reason: result.reason }, 'backup verified');
    return result;
  }

  /** Never competes with a backup: the read stops between chunks until the node's backups are done. */
  async #holdForBackups(): Promise<void> {
    while (this.deps.runningBackups() > 0) await sleep(HOLD_POLL_MS, undefined, { signal: this.#closing.signal });
  }

  async #check(serverUuid: string, uuid: string, req: DaemonVerifyRequest, expect: CheckExpectation, opts: CheckOptions & { signal: AbortSignal }): Promise<CheckOutcome> {
    const { signal } = opts;
    if (req.adapter === 'wings') {
      const found = await this.deps.store.claim(serverUuid, uuid);
      if (!found) return { good: false, reason: 'the archive is missing from the node', size: 0 };
      return checkLocalArchive(found.path, expect, opts);
    }
    let res;
    try {
      res = await guardedGet(req.download_url!, { allowlist: this.#allowlist, signal, idleTimeoutMs: this.deps.config.system.backups.restoreIdleTimeoutMs });
    } catch (err) {
      throw daemonErrors.downloadSource(`The backup's object could not be read: ${errorMessage(err)}`);
    }
    if (res.status === 404) {
      res.body.destroy();
      return { good: false, reason: 'the object is missing from S3', size: 0 };
    }
    if (res.status !== 200) {
      res.body.destroy();
      throw daemonErrors.downloadSource(`S3 answered HTTP ${res.status} when the backup's object was read`);
    }
    if (expect.size && res.contentLength !== null && res.contentLength !== expect.size) {
      res.body.destroy();
      return { good: false, reason: `the stored object is ${res.contentLength} bytes, the backup recorded ${expect.size}`, size: res.contentLength };
    }
    try {
      return await checkArchive(res.body, expect, opts);
    } finally {
      res.body.destroy();
    }
  }

  close(): void {
    this.#closing.abort(new Error('the daemon is shutting down'));
  }
}
