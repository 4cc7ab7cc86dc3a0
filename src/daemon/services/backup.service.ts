/**
 * Backup jobs: validate synchronously (so the panel gets a real status code), then archive in the
 * background, report through the outbox and publish websocket events. A job is journaled for as
 * long as it runs so a crash cannot leave the panel waiting for a report that never comes.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import { createArchive, validateIgnore, type CreateResult, type ArchiveProgress } from '../../archive/index.ts';
import type { BackupProgressPayload, BackupCompletedPayload } from '../../wire/ws-events.ts';
import { WS_EVENTS } from '../../wire/ws-events.ts';
import type { RemoteBackupStatus } from '../../wire/remote-api.ts';
import type { DaemonConfig } from '../config.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import type { DaemonMetrics } from '../metrics.ts';
import type { EventHub } from '../ws/event-hub.ts';
import { throttle } from '../ws/event-hub.ts';
import type { PanelClient } from '../panel-client/panel-client.ts';
import type { BackupStore } from './backup-store.ts';
import type { JobJournal } from './job-journal.ts';
import type { ReportOutbox } from './report-outbox.ts';
import type { ServerRegistry } from './server-registry.ts';
import { uploadArchiveToS3 } from './s3-upload.ts';
import { putPart } from './part-upload.ts';
import { withRetry } from '../panel-client/panel-client.ts';
import { JobTotal } from './job-total.ts';
import type { SourceSizes } from './source-sizes.ts';
import { scanTree } from './tree-scan.ts';
import { planFor, type HookPlan, type SaveHookRunner } from '../control/save-hooks.ts';
import { checkSaveHook, type ChangedFiles, type SaveHook } from '../../wire/server-control.ts';
import { FailureReasons, JobCancelled, failureReasonOf } from './failure-reason.ts';
import { RecentJobs } from './recent-jobs.ts';
import { createVerifiedArchiveFile } from './verify.service.ts';
import { buildBackupIgnore } from './pteroignore.ts';
import type { ResticService } from '../restic/restic-service.ts';
import { parseResticRepo } from '../restic/restic-request.ts';
import { resticDetail, type ResticRepo } from '../restic/restic-cli.ts';
import { resticExcludes } from '../../archive/ignore-rules-restic.ts';

export type DaemonAdapter = 'wings' | 's3' | 'restic';

export interface BackupRequest {
  adapter: unknown;
  uuid: unknown;
  ignore?: unknown;
  /** backwing: the node's default patterns (issue 17); merged below .pteroignore and `ignore`. */
  ignore_defaults?: unknown;
  ignore_egg_defaults?: unknown;
  /** backwing: the owner's save hook; absent (upstream panels) = the server's default from the config. */
  save_hook?: unknown;
  /** backwing: the repository of a `restic` job. */
  restic?: unknown;
}

interface RunningBackup {
  serverUuid: string;
  serverDir: string;
  hook: HookPlan;
  released?: boolean;
  adapter: DaemonAdapter;
  /** Set for restic jobs: the repository the panel sent with the request. */
  repo: ResticRepo | null;
  controller: AbortController;
  done: Promise<void>;
  journalId: string;
}

export interface BackupServiceDeps {
  config: DaemonConfig;
  registry: ServerRegistry;
  store: BackupStore;
  journal: JobJournal;
  outbox: ReportOutbox;
  panel: PanelClient;
  hub: EventHub;
  metrics: DaemonMetrics;
  logger: Logger;
  sizes: SourceSizes;
  hooks: SaveHookRunner;
  restic: ResticService;
}

type ResticResultFields = Pick<RemoteBackupStatus, 'snapshot_id' | 'bytes_added' | 'repository_size'>;

/** Sent to a backwing panel even when zero, so it can tell "none changed" from "not known". */
function changedFilesOf(result: CreateResult): ChangedFiles {
  const c = result.changedFiles;
  return { count: c.count, names: c.names.slice(0, 20), inconsistent: c.inconsistent };
}

/**
 * Wings' failure report shape: empty strings and zero rather than nulls, which upstream panels
 * accept, plus backwing's `failure_reason` (upstream's FormRequest keeps validated fields only, so
 * an upstream panel ignores it).
 */
export function failedBackupReport(reason: string): RemoteBackupStatus {
  return { successful: false, checksum: '', checksum_type: '', size: 0, parts: null, failure_reason: reason };
}

export class BackupService {
  readonly #running = new Map<string, RunningBackup>();
  #closing = false;
  /** Every job until fully done (report queued), for close(). */
  readonly #jobs = new Set<Promise<void>>();
  /** Finished jobs, kept a while so the panel's reconciler can tell "finished" from "never heard of". */
  readonly recent = new RecentJobs();

  constructor(private readonly deps: BackupServiceDeps) {}

  /** Running backups, for the reconciliation inventory. */
  running(): Array<{ backupUuid: string; serverUuid: string; adapter: DaemonAdapter }> {
    return [...this.#running.entries()].map(([backupUuid, j]) => ({ backupUuid, serverUuid: j.serverUuid, adapter: j.adapter }));
  }

  get runningCount(): number {
    return this.#running.size;
  }

  isRunningFor(serverUuid: string): boolean {
    for (const job of this.#running.values()) if (job.serverUuid === serverUuid) return true;
    return false;
  }

  /** All checks happen here, before the 202; the work itself runs in the background. */
  async start(serverUuid: string, serverDir: string, req: BackupRequest): Promise<void> {
    const { store, registry, journal } = this.deps;
    const uuid = canonicalUuid(req.uuid);
    if (!uuid) throw daemonErrors.badUuid();
    if (req.adapter !== 'wings' && req.adapter !== 's3' && req.adapter !== 'restic') throw daemonErrors.badAdapter();
    const adapter: DaemonAdapter = req.adapter;
    const repo = adapter === 'restic' ? parseResticRepo(req.restic) : null;
    if (req.ignore !== undefined && req.ignore !== null && typeof req.ignore !== 'string') throw daemonErrors.badIgnore('The ignore field must be a string.');
    const requested = typeof req.ignore === 'string' ? req.ignore : '';
    if (req.ignore_defaults !== undefined && req.ignore_defaults !== null && typeof req.ignore_defaults !== 'string') throw daemonErrors.badIgnore('The ignore_defaults field must be a string.');
    if (req.ignore_egg_defaults !== undefined && req.ignore_egg_defaults !== null && typeof req.ignore_egg_defaults !== 'string') throw daemonErrors.badIgnore('The ignore_egg_defaults field must be a string.');
    let ignore: string;
    try {
      validateIgnore(requested);
      ignore = await buildBackupIgnore(serverDir, {
        defaults: typeof req.ignore_defaults === 'string' ? req.ignore_defaults : '',
        eggDefaults: typeof req.ignore_egg_defaults === 'string' ? req.ignore_egg_defaults : '',
        request: requested,
      });
      // restic cannot express every pattern (negations): refused now, a 400, before the 202.
      if (adapter === 'restic') resticExcludes('/', { text: ignore, source: 'ignore' });
    } catch (err) {
      throw daemonErrors.badIgnore(errorMessage(err));
    }
    const hook = this.#hookFor(serverUuid, req.save_hook);
    if (this.#closing) throw daemonErrors.badRequest('The daemon is shutting down.');
    if (registry.isRestoring(serverUuid)) throw daemonErrors.restoring();
    if (this.#running.has(uuid) || (adapter !== 'restic' && (await store.exists(uuid, serverUuid)))) throw daemonErrors.backupExists();
    // Re-check after the await, in the same synchronous block that claims the job: an identical
    // request or a restore of this server may have started meanwhile.
    if (this.#running.has(uuid)) throw daemonErrors.backupExists();
    if (registry.isRestoring(serverUuid)) throw daemonErrors.restoring();

    const controller = new AbortController();
    const job: RunningBackup = { serverUuid, serverDir, hook, adapter, repo, controller, done: Promise.resolve(), journalId: '' };
    this.#running.set(uuid, job);
    try {
      job.journalId = await journal.add({
        kind: 'backup',
        server_uuid: serverUuid,
        backup_uuid: uuid,
        adapter,
        started_at: new Date().toISOString(),
        ...(hook.after.length > 0 ? { save_hook_after: hook.after } : {}),
      });
    } catch (err) {
      this.#running.delete(uuid);
      throw err;
    }
    this.deps.metrics.jobsRunning.inc({ kind: 'backup' });
    job.done = this.#run(uuid, serverDir, adapter, ignore, job).finally(() => this.#release(uuid, job));
    this.#jobs.add(job.done);
    void job.done.finally(() => this.#jobs.delete(job.done));
  }

  /** The request's hook (checked against what the node allows), else the server's or node's default. */
  #hookFor(serverUuid: string, raw: unknown): HookPlan {
    const { control } = this.deps.config;
    let hook: SaveHook = control.servers.get(serverUuid)?.saveHook ?? control.saveHooks.default;
    if (raw !== undefined && raw !== null) {
      const checked = checkSaveHook(raw, control.saveHooks.allowed);
      if ('problem' in checked) throw daemonErrors.badRequest(checked.problem);
      hook = checked.hook;
    }
    return planFor(hook, control.saveHooks.sourceCommand);
  }

  /** Forgets the job before its report goes out, so the panel may act on the report at once. */
  #release(uuid: string, job: RunningBackup): void {
    if (job.released) return;
    job.released = true;
    if (this.#running.get(uuid) === job) this.#running.delete(uuid);
    this.deps.metrics.jobsRunning.dec({ kind: 'backup' });
  }

  async #run(uuid: string, serverDir: string, adapter: DaemonAdapter, ignore: string, job: RunningBackup): Promise<void> {
    const { config, store, hub, outbox, journal, metrics } = this.deps;
    const logger = this.deps.logger.child({ backup_uuid: uuid, server_uuid: job.serverUuid, adapter });
    const started = process.hrtime.bigint();
    const previous = await this.deps.sizes.previous(job.serverUuid);
    const total = new JobTotal(previous !== null ? { bytes: previous, source: 'previous' } : null);
    let last: ArchiveProgress = { bytesRead: 0, bytesWritten: 0, filesDone: 0, totalBytes: null };
    const publish = (p: ArchiveProgress) => {
      const payload: BackupProgressPayload = {
        uuid,
        bytes_read: p.bytesRead,
        bytes_written: p.bytesWritten,
        files_done: p.filesDone,
        ...total.fields(p.bytesRead),
      };
      hub.publish(job.serverUuid, WS_EVENTS.backupProgress, payload);
    };
    const progress = throttle<ArchiveProgress>(500, (p) => {
      last = p;
      publish(p);
    });
    // A first frame at once, so watchers have a bar (and, with a previous size, a percentage) now.
    publish(last);
    // The pre-scan runs beside the archive and never holds it up; its figure replaces the guess.
    const scanStop = new AbortController();
    const scan = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => scanTree(serverDir, ignore, AbortSignal.any([scanStop.signal, job.controller.signal])))
      .then((r) => {
        if (scanStop.signal.aborted) return;
        total.set(r.bytes, 'scan');
        publish(last);
        logger.debug({ bytes: r.bytes, files: r.files }, 'pre-scan done');
      })
      .catch(() => undefined);
    const archiveOpts = {
      ignore,
      level: config.system.backups.compressionLevel,
      checksum: config.system.backups.checksum,
      writeLimit: config.system.backups.writeLimit || undefined,
      // Beside Wings, archives stay restorable by Wings itself after switching back.
      directoryEntries: config.wings === null,
      signal: job.controller.signal,
      onProgress: (p: ArchiveProgress) => progress.push(p),
      logger,
    };
    let report: RemoteBackupStatus;
    let event: BackupCompletedPayload;
    logger.info('backup started');
    const server = { uuid: job.serverUuid, dir: job.serverDir };
    let owesAfter = false;
    try {
      owesAfter = job.hook.after.length > 0;
      // Skipped (game offline) = nothing held, so nothing owed either.
      if (job.hook.before.length > 0) owesAfter = (await this.deps.hooks.before(server, job.hook, job.controller.signal)) && owesAfter;
      let result: CreateResult;
      let parts: RemoteBackupStatus['parts'] = null;
      let indexSize: number | null = null;
      let snapshot: ResticResultFields | null = null;
      if (adapter === 'restic') {
        const r = await this.deps.restic.backup(serverDir, job.serverUuid, uuid, ignore, job.repo!, job.controller.signal, (p) => {
          if (p.totalBytes !== null) total.set(p.totalBytes, 'scan');
          progress.push({ bytesRead: p.bytesDone, bytesWritten: p.bytesDone, filesDone: p.filesDone, totalBytes: p.totalBytes });
        });
        // A restic snapshot has no single archive: its "size" is what it added to the repository.
        // No archive checksum either: the snapshot id (a hash of its content) stands in for it.
        result = { size: r.bytesAdded, checksum: r.snapshotId, checksumType: 'restic-snapshot' as CreateResult['checksumType'], files: r.files, bytesRead: r.bytesRead, changedFiles: { count: 0, names: [], inconsistent: 0 } };
        snapshot = { snapshot_id: r.snapshotId, bytes_added: r.bytesAdded, repository_size: r.repositorySize };
        logger.info({ snapshot: r.snapshotId, bytes_added: r.bytesAdded }, 'restic snapshot saved');
      } else if (adapter === 'wings') {
        const archivePath = await store.prepareArchive(uuid, job.serverUuid);
        // Read back before it is reported good (issue 17), member by member as it is stored:
        // what is on disk is what was written, and it restores. Damage throws VerificationFailed.
        result = await createVerifiedArchiveFile(serverDir, archivePath, { ...archiveOpts, index: true });
        // Without it the backup is still whole: the first browse builds the index from the archive.
        if (result.index) {
          const index = result.index;
          indexSize = await store.writeIndex(archivePath, index).then(() => index.length, (err: unknown) => {
            logger.warn({ err: errorMessage(err) }, 'cannot write the backup index');
            return null;
          });
        }
        await store.writeSidecar(uuid, {
          server_uuid: job.serverUuid,
          checksum: result.checksum,
          checksum_type: result.checksumType,
          size: result.size,
          created_at: new Date().toISOString(),
        });
      } else {
        // Only a backwing panel hands out a URL for the index object.
        const withIndex = config.panelKind === 'backwing' && this.deps.panel.getIndexUploadUrl !== undefined;
        const outcome = await uploadArchiveToS3((out: Writable) => createArchive(serverDir, out, { ...archiveOpts, index: withIndex }), {
          panel: this.deps.panel,
          backupUuid: uuid,
          spoolDir: store.dir,
          concurrency: config.system.backups.s3PartConcurrency,
          maxPartSize: config.system.backups.s3MaxPartSize,
          upstreamPanel: config.panelKind === 'upstream',
          signal: job.controller.signal,
          logger,
        });
        result = outcome.result;
        parts = outcome.parts;
        logger.info({ mode: outcome.mode, parts: parts.length }, 'uploaded to s3');
        if (result.index) indexSize = await this.#uploadIndex(uuid, result.index, job.controller.signal, logger);
      }
      // A DELETE that arrived while the last bytes were written wins: the backup is gone, say so.
      // Nothing awaits between this check and #release, so a later DELETE sees a finished backup.
      if (job.controller.signal.aborted) throw new Error('backup deleted while finishing');
      progress.flush();
      scanStop.abort();
      // The last frame is exact: what was read is what there was.
      total.finish(result.bytesRead);
      publish({ bytesRead: result.bytesRead, bytesWritten: result.size, filesDone: result.files, totalBytes: null });
      await this.deps.sizes.remember(job.serverUuid, result.bytesRead).catch(() => undefined);
      const changed = changedFilesOf(result);
      report = { successful: true, checksum: result.checksum, checksum_type: result.checksumType, size: result.size, parts };
      // An upstream panel (beside Wings) gets exactly Wings' fields.
      if (config.panelKind === 'backwing') {
        report.changed_files = changed;
        if (indexSize !== null) report.index_size = indexSize;
        if (adapter === 'wings') report.verified = true;
      }
      if (snapshot) Object.assign(report, snapshot);
      event = { uuid, is_successful: true, checksum: result.checksum, checksum_type: result.checksumType, file_size: result.size };
      metrics.backups.inc({ adapter, outcome: 'success' });
      metrics.backupBytes.inc(result.size);
      logger.info({ size: result.size, files: result.files }, 'backup completed');
    } catch (err) {
      progress.flush();
      scanStop.abort();
      if (adapter === 'wings') await store.remove(uuid, job.serverUuid).catch(() => undefined);
      report = failedBackupReport(failureReasonOf(err, job.controller.signal));
      event = { uuid, is_successful: false, checksum: '', checksum_type: config.system.backups.checksum, file_size: 0 };
      metrics.backups.inc({ adapter, outcome: job.controller.signal.aborted ? 'aborted' : 'failure' });
      logger.warn({ err: errorMessage(err), detail: resticDetail(err), reason: report.failure_reason }, 'backup failed');
    }
    // Whatever happened (success, failure, DELETE, shutdown): the game gets its saving back
    // before the report goes out. The journal entry still names these commands until then.
    if (owesAfter) await this.deps.hooks.after(server, job.hook.after);
    await scan;
    metrics.backupDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    // Recorded before the job is forgotten: an inventory taken in between still knows of it.
    this.recent.add({ kind: 'backup', backup_uuid: uuid, server_uuid: job.serverUuid, successful: report.successful, ...(report.failure_reason ? { failure_reason: report.failure_reason } : {}) });
    this.#release(uuid, job);
    const journalId = job.journalId;
    try {
      await outbox.enqueue(`/backups/${uuid}`, report, { job: journalId, beforeSend: () => journal.remove(journalId) });
    } catch (err) {
      // The journal entry stays, so the next start reports the failure instead.
      logger.error({ err: errorMessage(err) }, 'cannot persist backup report');
    }
    hub.publish(job.serverUuid, WS_EVENTS.backupCompleted, event);
  }

  /**
   * PUTs the index object beside an S3 archive. A failure leaves a whole backup without an index
   * (the first browse builds one), so it is logged, not fatal.
   */
  async #uploadIndex(uuid: string, index: Buffer, signal: AbortSignal, logger: Logger): Promise<number | null> {
    const spool = join(this.deps.store.dir, `${uuid}.idx.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(spool, index, { mode: 0o600 });
      await putPart(async () => (await withRetry(() => this.deps.panel.getIndexUploadUrl!(uuid), signal)).url, { file: spool, start: 0, length: index.length }, { signal });
      return index.length;
    } catch (err) {
      if (signal.aborted) throw err;
      logger.warn({ err: errorMessage(err) }, 'cannot upload the backup index; it will be built on first browse');
      return null;
    } finally {
      await rm(spool, { force: true });
    }
  }

  /** Aborts a running backup; resolves when it has cleaned up and queued its failure report. */
  async abort(uuid: string): Promise<boolean> {
    const job = this.#running.get(uuid);
    if (!job) return false;
    job.controller.abort(new JobCancelled(FailureReasons.cancelled));
    await job.done;
    return true;
  }

  /**
   * Stops a running backup at a user's request (backwing). Resolves once its temp files are gone
   * and its failure report is queued; a backup that is not running is a 404.
   */
  async cancel(serverUuid: string, rawBackup: string): Promise<void> {
    const uuid = canonicalUuid(rawBackup);
    if (!uuid) throw daemonErrors.badUuid();
    const job = this.#running.get(uuid);
    if (!job || job.serverUuid !== serverUuid) throw daemonErrors.noRunningBackup();
    await this.abort(uuid);
  }

  /** DELETE of one backup: a running one is aborted (and reported failed), a finished one removed. */
  async delete(serverUuid: string, rawBackup: string, body?: { adapter?: unknown; restic?: unknown } | null): Promise<void> {
    const uuid = canonicalUuid(rawBackup);
    if (!uuid) throw daemonErrors.badUuid();
    const repo = body?.adapter === 'restic' ? parseResticRepo(body.restic) : null;
    const job = this.#running.get(uuid);
    if (job && job.serverUuid === serverUuid) {
      await this.abort(uuid);
      if (job.adapter !== 'restic') await this.deps.store.remove(uuid, serverUuid);
      return;
    }
    if (repo) {
      // backwing: a restic backup is its snapshot; `forget` drops it, `prune` (batched, by the
      // panel) frees its data later. Forgetting a snapshot that is already gone is not an error.
      await this.deps.restic.forget(repo, serverUuid, uuid);
      return;
    }
    const found = await this.deps.store.claim(serverUuid, uuid);
    if (!found) throw daemonErrors.backupNotFound();
    await this.deps.store.removeFound(found);
  }

  async deleteAll(serverUuid: string): Promise<number> {
    await this.abortForServer(serverUuid);
    const owned = await this.deps.store.listOwnedBy(serverUuid);
    for (const found of owned) await this.deps.store.removeFound(found);
    return owned.length;
  }

  async abortForServer(serverUuid: string): Promise<void> {
    const jobs = [...this.#running.entries()].filter(([, j]) => j.serverUuid === serverUuid);
    await Promise.all(jobs.map(([uuid]) => this.abort(uuid)));
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const job of this.#running.values()) job.controller.abort(new JobCancelled(FailureReasons.shutDown));
    await Promise.all([...this.#jobs]);
  }
}
