import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type Transaction } from 'kysely';
import { LruMap } from '../../core/lru-map.ts';
import { AppError } from '../../core/app-error.ts';
import type { DB } from './schema.ts';
import { ChangeFeed, ConnectionWrites, PostgresChangeListener } from './change-feed.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** When kept answers may be used (change-feed.ts). */
  changes: ChangeFeed;
  close(): Promise<void>;
}

/** Either the root handle or an open transaction; repositories accept both. */
export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * Each driver is loaded only when its database is opened: a SQLite panel never pays pg's memory
 * (~15 MiB RSS), and the reverse. Both are CommonJS, so a synchronous require keeps this function sync.
 */
const require = createRequire(import.meta.url);

let pgModule: typeof pg | undefined;
function loadPg(): typeof pg {
  if (!pgModule) {
    pgModule = require('pg') as typeof pg;
    // pg returns int8 as strings by default; byte counts and ids fit in a double comfortably.
    pgModule.types.setTypeParser(20, (v: string) => Number(v));
  }
  return pgModule;
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every statement anew; preparing was the largest single cost of a
 * client API read under load (docs/benchmarks.md, the load section). The panel's queries are few
 * distinct SQL strings with parameters, so prepared statements are kept by their SQL (least
 * recently used dropped past STATEMENT_CACHE_SIZE). One connection runs one statement at a time,
 * except a streamed query, which keeps its statement busy: those are prepared fresh.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, writes: ConnectionWrites): SqliteDatabase & { prepare(sqlText: string): BetterSqlite3.Statement } {
  const cache = new LruMap<string, BetterSqlite3.Statement>(STATEMENT_CACHE_SIZE);
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string): BetterSqlite3.Statement {
      // Runs synchronously right after (better-sqlite3), and no other statement runs inside an open
      // transaction (Kysely's mutex), so the epoch may move now (change-feed.ts).
      writes.statement(sqlText)?.();
      const cached = cache.get(sqlText);
      if (cached && !cached.busy) return cached;
      const stmt = sqlite.prepare(sqlText);
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

/**
 * Runs one of the precompiled hot statements (repositories/precompiled.ts) on the driver itself,
 * without Kysely's executor (connection provider, mutex, plugins, result transform: ~40 µs of
 * JavaScript a statement on the client API's hot path, more than SQLite's own work; measured in
 * docs/benchmarks.md, the load section). Returns undefined when it cannot: the caller then goes
 * through Kysely.
 */
export type DirectRunner = (sqlText: string, parameters: readonly unknown[]) => Promise<unknown[]> | unknown[] | undefined;

/** Root handles only: a Transaction is another object, so its statements always go through Kysely. */
const DIRECT = new WeakMap<object, DirectRunner>();

export function directRunner(db: Executor): DirectRunner | undefined {
  return DIRECT.get(db);
}

const FEEDS = new WeakMap<object, ChangeFeed>();

/** The change feed of a root handle (undefined for a transaction: nothing read in one is kept). */
export function changeFeedOf(db: Executor): ChangeFeed | undefined {
  return FEEDS.get(db);
}

/** SQL text → the name it is prepared under on each PostgreSQL connection (see namedStatement). */
const NAMED = new Map<string, string>();

/**
 * Marks a query's SQL (one of the few hot queries compiled once, repositories/precompiled.ts) to
 * run as a named prepared statement on PostgreSQL: each connection parses and plans it once, not
 * on every request. The set is small and fixed (every name is kept by every connection for its
 * life), so nothing else is named. SQLite keeps its own statement cache (withStatementCache).
 */
export function namedStatement(sqlText: string): void {
  if (!NAMED.has(sqlText)) NAMED.set(sqlText, `bw_${createHash('sha1').update(sqlText).digest('hex').slice(0, 20)}`);
}

function useNamedStatements(client: pg.PoolClient, feed: ChangeFeed): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const writes = new ConnectionWrites(feed);
  // Kysely calls query(text, values), or query(cursor) for a stream; pool.query passes a config
  // object (already named where it should be) and a callback, which must reach pg unchanged.
  client.query = ((q: unknown, ...rest: unknown[]) => {
    const text = typeof q === 'string' ? q : (q as { text?: unknown } | null)?.text;
    const done = typeof text === 'string' ? writes.statement(text) : undefined;
    const name = typeof q === 'string' ? NAMED.get(q) : undefined;
    const args = name ? [{ name, text: q, values: rest[0] }, ...rest.slice(1)] : [q, ...rest];
    if (!done) return query(...args);
    // The epoch moves once the write (or its transaction's commit) is done, whatever its outcome.
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (...a: unknown[]) => { done(); (last as (...b: unknown[]) => void)(...a); };
      return query(...args);
    }
    const r = query(...args);
    if (r instanceof Promise) r.then(done, done);
    else done();
    return r;
  }) as typeof client.query;
}

/** `sqlite:<path>` (relative to cwd; `sqlite::memory:` for tests) or `postgres://…`. */
export function createDatabase(url: string): Database {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new AppError('E_CONFIG', 500, 'invalid configuration: DATABASE_URL sqlite: needs a file path');
    const file = path === ':memory:' ? ':memory:' : resolve(path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
    const sqlite = new Sqlite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // CLI commands and the running panel may share the file; wait rather than fail on a lock.
    sqlite.pragma('busy_timeout = 5000');
    const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
    const changes = new ChangeFeed({ usable: true, dataVersion: () => dataVersion.get() as number });
    const statements = withStatementCache(sqlite, new ConnectionWrites(changes));
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: statements }) });
    // Kysely's SQLite driver holds its one connection for a whole transaction (a mutex across
    // awaits): while one is open a statement run beside it would join it, so it waits in Kysely.
    // Otherwise better-sqlite3 runs it synchronously, as Kysely would, in autocommit.
    DIRECT.set(db, (sqlText, parameters) => {
      if (sqlite.inTransaction) return undefined;
      const stmt = statements.prepare(sqlText);
      return stmt.reader ? stmt.all(parameters as unknown[]) : undefined;
    });
    FEEDS.set(db, changes);
    return { db, dialect: 'sqlite', changes, close: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new (loadPg().Pool)({ connectionString: url, max: 10 });
    // Nothing kept is used until the listener has subscribed (change-feed.ts).
    let listener: PostgresChangeListener | undefined;
    let closed = false;
    const changes = new ChangeFeed({
      usable: false,
      start: () => { if (!closed) (listener = new PostgresChangeListener(loadPg().Client, url, changes)).start(); },
      sync: async () => { await listener?.sync(); },
    });
    pool.on('connect', (client) => useNamedStatements(client, changes));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    // A pooled connection per statement, as Kysely does outside a transaction; named (prepared once per connection).
    DIRECT.set(db, async (sqlText, parameters) => {
      const name = NAMED.get(sqlText);
      return (await pool.query(name ? { name, text: sqlText, values: parameters as unknown[] } : { text: sqlText, values: parameters as unknown[] })).rows;
    });
    FEEDS.set(db, changes);
    return { db, dialect: 'postgres', changes, close: async () => { closed = true; await listener?.close(); await db.destroy(); } };
  }
  throw new AppError('E_CONFIG', 500, `invalid configuration: DATABASE_URL must start with sqlite: or postgres://`);
}
