/**
 * Follows a backup or restore to its end. Live progress comes from the daemon's websocket (the
 * socket URL and token come from the panel); the panel is polled alongside, because the websocket
 * may be unreachable, refuse us, or miss an event that fired before we authenticated. The panel's
 * record is the final word: a websocket "completed" only makes us poll fast until the panel agrees.
 */
import WebSocket from 'ws';
import type { BackupAttributes } from '../../wire/client-api.ts';
import {
  WS_EVENTS,
  progressDone,
  type BackupCompletedPayload,
  type BackupProgressPayload,
  type RestoreCompletedPayload,
  type TotalSource,
  type WsFrame,
} from '../../wire/ws-events.ts';
import { CliError } from '../../core/cli-error.ts';
import { EXIT } from './exit-codes.ts';
import { PanelApiError, type PanelApi } from './panel-api.ts';

export interface FollowOptions {
  api: PanelApi;
  server: string;
  backup: string;
  kind: 'backup' | 'restore';
  onProgress?: (done: number, total: number | null, source?: TotalSource) => void;
  /** 0 = wait forever. */
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** false = poll only (for tests and for networks where the daemon is not reachable). */
  websocket?: boolean;
  signal?: AbortSignal;
}

export interface FollowResult {
  successful: boolean;
  /** Where the outcome was first learned. */
  via: 'websocket' | 'poll';
  backup: BackupAttributes;
  error?: string;
}

interface WsOutcome {
  successful: boolean;
  error?: string;
}

export async function followJob(opts: FollowOptions): Promise<FollowResult> {
  const interval = opts.pollIntervalMs ?? 2000;
  const deadline = opts.timeoutMs && opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : Infinity;
  let wsOutcome: WsOutcome | null = null;
  let wake: (() => void) | null = null;
  const live = opts.websocket === false
    ? null
    : openLiveFeed(opts, (outcome) => {
        wsOutcome = outcome;
        wake?.();
      });
  let agreeDeadline = Infinity;
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new CliError('interrupted; the job keeps running on the daemon', 130);
      const polled = await pollOnce(opts);
      if (polled) {
        const outcome = wsOutcome as WsOutcome | null;
        return {
          successful: polled.successful,
          via: outcome ? 'websocket' : 'poll',
          backup: polled.backup,
          ...(polled.successful ? {} : { error: outcome?.error ?? polled.error }),
        };
      }
      if (wsOutcome !== null && agreeDeadline === Infinity) agreeDeadline = Date.now() + 15_000;
      if (Date.now() > agreeDeadline) {
        // The daemon said it finished but the panel never recorded it: report what we know.
        const outcome = wsOutcome as unknown as WsOutcome;
        const backup = await getBackupDuringWait(opts);
        return { successful: outcome.successful, via: 'websocket', backup, ...(outcome.error ? { error: outcome.error } : {}) };
      }
      if (Date.now() > deadline) {
        throw new CliError(`gave up waiting after ${Math.round((opts.timeoutMs ?? 0) / 1000)}s; the ${opts.kind} may still finish (check with \`backwing backups show\`)`, EXIT.timeout);
      }
      const wait = wsOutcome !== null ? 200 : interval;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, Math.max(0, Math.min(wait, deadline - Date.now())));
        wake = done;
        opts.signal?.addEventListener('abort', done, { once: true });
      });
      wake = null;
    }
  } finally {
    live?.close();
  }
}

/** The backup existed when the wait began; a 404 now means someone (or retention) deleted it meanwhile. */
async function getBackupDuringWait(opts: FollowOptions): Promise<BackupAttributes> {
  try {
    return await opts.api.getBackup(opts.server, opts.backup);
  } catch (err) {
    if (err instanceof PanelApiError && err.status === 404 && /backup/i.test(err.message)) {
      throw new CliError(`backup ${opts.backup} was deleted while waiting for the ${opts.kind} (by another user, a schedule or the retention policy)`, EXIT.jobFailed);
    }
    throw err;
  }
}

async function pollOnce(opts: FollowOptions): Promise<{ successful: boolean; backup: BackupAttributes; error?: string } | null> {
  if (opts.kind === 'backup') {
    const backup = await getBackupDuringWait(opts);
    if (backup.completed_at === null) return null;
    return { successful: backup.is_successful, backup, ...(backup.is_successful ? {} : { error: 'the daemon reported the backup as failed' }) };
  }
  const server = await opts.api.getServer(opts.server);
  if (server.attributes.status === 'restoring_backup') return null;
  const backup = await getBackupDuringWait(opts);
  const failed = await restoreFailedPerActivity(opts);
  return { successful: !failed, backup, ...(failed ? { error: 'the daemon reported the restore as failed' } : {}) };
}

/** The panel records restore outcomes only in the activity log; the newest restore event decides. */
async function restoreFailedPerActivity(opts: FollowOptions): Promise<boolean> {
  try {
    const entries = await opts.api.activity(opts.server);
    const last = entries.find((e) => e.event === 'server:backup.restore-complete' || e.event === 'server:backup.restore-failed');
    return last?.event === 'server:backup.restore-failed';
  } catch {
    return false;
  }
}

interface LiveFeed {
  close(): void;
}

function openLiveFeed(opts: FollowOptions, onDone: (o: WsOutcome) => void): LiveFeed {
  let socket: WebSocket | null = null;
  let closed = false;
  const authenticate = async () => {
    const creds = await opts.api.websocketCredentials(opts.server);
    return creds;
  };
  void (async () => {
    try {
      const creds = await authenticate();
      if (closed) return;
      socket = new WebSocket(creds.socket, { handshakeTimeout: 10_000 });
      socket.on('open', () => socket?.send(JSON.stringify({ event: WS_EVENTS.auth, args: [creds.token] })));
      socket.on('message', (data) => {
        let frame: WsFrame;
        try {
          frame = JSON.parse(String(data)) as WsFrame;
        } catch {
          return;
        }
        handleFrame(frame);
      });
      // Any socket failure leaves polling in charge; nothing to report to the user.
      socket.on('error', () => undefined);
    } catch {
      // The panel refused websocket credentials (permission, or none configured): polling only.
    }
  })();

  const handleFrame = (frame: WsFrame) => {
    const payload = parseArg(frame.args?.[0]);
    switch (frame.event) {
      case WS_EVENTS.tokenExpiring:
        void authenticate()
          .then((c) => socket?.send(JSON.stringify({ event: WS_EVENTS.auth, args: [c.token] })))
          .catch(() => undefined);
        return;
      case WS_EVENTS.jwtError:
        socket?.close();
        return;
      case WS_EVENTS.backupProgress:
      case WS_EVENTS.restoreProgress: {
        const want = frame.event === WS_EVENTS.backupProgress ? 'backup' : 'restore';
        const p = payload as BackupProgressPayload | null;
        if (want === opts.kind && p && p.uuid === opts.backup) {
          // Bytes read against the total the daemon sends: the archive's size for a restore, the
          // pre-scan's (or the previous backup's) for a backup; bytes written for selected paths.
          opts.onProgress?.(progressDone(p), p.total_bytes, p.total_source);
        }
        return;
      }
      case WS_EVENTS.backupCompleted: {
        const p = payload as BackupCompletedPayload | null;
        if (opts.kind === 'backup' && p?.uuid === opts.backup) onDone({ successful: p.is_successful });
        return;
      }
      case WS_EVENTS.restoreCompleted: {
        const p = payload as RestoreCompletedPayload | null;
        // Wings sends an empty payload; one restore per server runs at a time, so it is ours.
        if (opts.kind === 'restore' && (!p || !p.uuid || p.uuid === opts.backup)) {
          onDone({ successful: p ? p.is_successful !== false : true, ...(p?.error ? { error: p.error } : {}) });
        }
        return;
      }
      default:
        return;
    }
  };

  return {
    close() {
      closed = true;
      socket?.removeAllListeners('message');
      socket?.on('error', () => undefined);
      try {
        socket?.terminate();
      } catch {
        // already gone
      }
    },
  };
}

function parseArg(arg: string | undefined): unknown {
  if (!arg) return null;
  try {
    return JSON.parse(arg);
  } catch {
    return null;
  }
}
