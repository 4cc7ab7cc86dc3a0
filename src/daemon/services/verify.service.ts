/**
 * Verification (issue 17): a stored archive read back from where it lives — this node's disk, or
 * an S3 object through a presigned GET the panel signs — hashed and walked to the end. Nothing is
 * written. Verifications run one at a time on a node (a queue), so a schedule re-verifying every
 * backup never has two reads competing with each other or with the game's disk.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkArchive, type CheckExpectation, type CheckOptions, type CheckOutcome } from '../../archive/index.ts';
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

/** A seam for tests that damage an archive between its writing and its read-back. Never set outside tests. */
export const verifyTestHooks: { beforeReadBack?: (path: string) => void } = {};

/** Reads the local archive at `path` back (no link followed); a missing file is a damaged backup. */
export async function checkLocalArchive(path: string, expect: CheckExpectation, opts: CheckOptions = {}): Promise<CheckOutcome> {
  verifyTestHooks.beforeReadBack?.(path);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { good: false, reason: 'the archive is missing from the node', size: 0 };
    if (code === 'ELOOP') return { good: false, reason: 'the archive has been replaced by a symbolic link', size: 0 };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { good: false, reason: 'the archive is not a regular file', size: 0 };
    return await checkArchive(fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }), expect, opts);
  } finally {
    await fh.close();
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
