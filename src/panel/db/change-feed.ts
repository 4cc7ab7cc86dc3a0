import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Tells a panel's in-memory caches (repositories/server-scope.repository.ts) when what they keep
 * may have changed in the database, so the client API's hot reads need no query in steady state
 * (issue 15; docs/benchmarks.md, the load section).
 *
 * A cache entry is good while `epoch` is the one it was read at. The epoch moves on:
 * - this process's own writes to a table that decides a cached answer (seen in the SQL text the
 *   drivers run: `ConnectionWrites`), after the write commits;
 * - on PostgreSQL, another process's committed change: triggers (migration 0015) NOTIFY
 *   CHANGES_CHANNEL, which a dedicated connection LISTENs to. While that connection is not
 *   subscribed (starting, lost, re-connecting) `usable` is false: every read goes to the database;
 * - on SQLite, another connection's commit (a CLI command, another process): `PRAGMA data_version`
 *   moves, checked by `refresh` (a few µs, no table read).
 */
export class ChangeFeed {
  #epoch = 0;
  #usable: boolean;
  #dataVersion: (() => number) | undefined;
  #lastDataVersion = -1;

  #start: (() => void) | undefined;
  #sync: (() => Promise<void>) | undefined;

  /**
   * `start`: run on the first `refresh` (the PostgreSQL listener: a CLI command that keeps nothing
   * opens no connection for it). `sync`: resolves once every change committed before it was called
   * has been seen (the listener's own notification came back).
   */
  constructor(opts: { usable: boolean; dataVersion?: () => number; start?: () => void; sync?: () => Promise<void> }) {
    this.#usable = opts.usable;
    this.#dataVersion = opts.dataVersion;
    this.#start = opts.start;
    this.#sync = opts.sync;
  }

  /** Every change committed anywhere before this call has moved the epoch when it resolves (tests, admin tools). */
  async sync(): Promise<void> {
    await this.whenUsable();
    await this.#sync?.();
  }

  /** The current epoch; read it before a database read whose result is to be kept. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether kept answers may be used at all (false: go to the database). Checks SQLite's data_version. */
  refresh(): boolean {
    if (this.#start) {
      const start = this.#start;
      this.#start = undefined;
      start();
    }
    if (this.#dataVersion) {
      const v = this.#dataVersion();
      if (v !== this.#lastDataVersion) {
        this.#lastDataVersion = v;
        this.invalidate();
      }
    }
    return this.#usable;
  }

  /** Everything kept so far is stale. */
  invalidate(): void {
    this.#epoch++;
  }

  /** PostgreSQL: the listener subscribed (true) or was lost (false); either way nothing kept survives. */
  setUsable(usable: boolean): void {
    this.#usable = usable;
    this.invalidate();
    if (usable) for (const w of this.#waiters.splice(0)) w();
  }

  #waiters: Array<() => void> = [];

  /** Resolves once kept answers may be used (starting the listener if nothing has yet). */
  whenUsable(): Promise<void> {
    if (this.refresh()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * The tables whose rows decide a kept answer: a key and its user, the server, its node, the
 * caller's subuser row, and the backup-list version (bumped by migration 0014's triggers on every
 * change to backups, copies and destinations; named here too since those triggers run in the
 * writer's own statement).
 */
const WATCHED = new Set(['api_keys', 'users', 'subusers', 'servers', 'nodes', 'backup_list_versions', 'backups', 'backup_copies', 'destinations']);

/** A key's last_used_at refresh (ApiKeysService: at most once a minute) decides nothing kept. */
const IGNORED = /^update "api_keys" set "last_used_at" = (\$1|\?) where "id" = (\$2|\?)$/;
const WRITE = /\b(?:insert\s+into|update|delete\s+from)\s+"?(\w+)"?/gi;
const writesWatched = new Map<string, boolean>();

/** Whether a statement may change a watched table (memoized per SQL text: the panel runs few distinct ones). */
export function writesWatchedTable(sqlText: string): boolean {
  let r = writesWatched.get(sqlText);
  if (r === undefined) {
    r = false;
    if (!IGNORED.test(sqlText)) {
      for (const m of sqlText.matchAll(WRITE)) {
        if (WATCHED.has(m[1]!.toLowerCase())) { r = true; break; }
      }
    }
    if (writesWatched.size < 10_000) writesWatched.set(sqlText, r);
  }
  return r;
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const COMMIT = /^\s*(commit|end)\b/i;
const ROLLBACK = /^\s*rollback\s*$/i;

/**
 * Follows one connection's statements: a watched write outside a transaction moves the epoch when
 * it completes; inside one, when its COMMIT completes (and when it was issued: readers in between
 * see the old rows, but their reads began before the commit's epoch move, so they are not kept).
 * Returns what to call when the statement completes (SQLite calls it at once: its statements run
 * synchronously and nothing runs beside an open transaction).
 */
export class ConnectionWrites {
  #inTransaction = false;
  #wrote = false;

  constructor(private readonly feed: ChangeFeed) {}

  statement(sqlText: string): (() => void) | undefined {
    if (BEGIN.test(sqlText)) { this.#inTransaction = true; this.#wrote = false; return undefined; }
    if (COMMIT.test(sqlText)) {
      const wrote = this.#wrote;
      this.#inTransaction = false;
      this.#wrote = false;
      return wrote ? () => this.feed.invalidate() : undefined;
    }
    if (ROLLBACK.test(sqlText)) { this.#inTransaction = false; this.#wrote = false; return undefined; }
    if (!writesWatchedTable(sqlText)) return undefined;
    this.feed.invalidate();
    if (this.#inTransaction) { this.#wrote = true; return undefined; }
    return () => this.feed.invalidate();
  }
}

/** The channel migration 0015's triggers notify on. */
export const CHANGES_CHANNEL = 'backwing_changes';
/** The listener's application_name (visible in pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = 'backwing-change-listener';
const RECONNECT_MS = 1000;

/**
 * The PostgreSQL side: one connection per panel that LISTENs to CHANGES_CHANNEL. Any notification
 * moves the epoch (they are rare: a change to a key, user, subuser, server, node or backup list).
 * On a lost connection: nothing kept is used (feed not usable) until a new one has subscribed.
 */
export class PostgresChangeListener {
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly Client: typeof pg.Client, private readonly connectionString: string, private readonly feed: ChangeFeed) {}

  start(): void {
    if (this.#closed) return;
    const client = new this.Client({ connectionString: this.connectionString, application_name: LISTENER_APPLICATION_NAME });
    this.#client = client;
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.feed.setUsable(false);
      client.end().catch(() => {});
      if (!this.#closed) {
        this.#timer = setTimeout(() => this.start(), RECONNECT_MS);
        this.#timer.unref();
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      const done = n.payload ? this.#syncs.get(n.payload) : undefined;
      if (done) {
        this.#syncs.delete(n.payload!);
        done();
      } else this.feed.invalidate();
    });
    client.connect()
      .then(() => client.query(`LISTEN ${CHANGES_CHANNEL}`))
      .then(() => { if (this.#client === client) this.feed.setUsable(true); })
      .catch(lost);
  }

  readonly #syncs = new Map<string, () => void>();

  /**
   * Resolves when a notification sent now comes back: PostgreSQL delivers notifications in commit
   * order, so every change committed before has been seen. Rejects if the listener is lost first.
   */
  async sync(): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('the change listener is not connected');
    const payload = `sync:${randomUUID()}`;
    const back = new Promise<void>((resolve) => this.#syncs.set(payload, resolve));
    await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, payload]);
    await back;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.feed.setUsable(false);
    await client?.end().catch(() => {});
  }
}
