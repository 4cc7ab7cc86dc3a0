import { sql } from 'kysely';
import type { SecretBox } from '../../core/secret-box.ts';
import { createRepositories, type Repos } from '../repositories/index.ts';
import type { Database } from './database.ts';

/**
 * Runs `fn` with repositories bound to one transaction. Keep network calls outside: a transaction
 * held open across a daemon or S3 call blocks every other writer on SQLite.
 */
export type TransactionRunner = <T>(fn: (repos: Repos) => Promise<T>) => Promise<T>;

export function transactionRunner(database: Database, secrets: SecretBox): TransactionRunner {
  if (database.dialect === 'sqlite') return sqliteImmediateTransaction(database, secrets);
  return (fn) => database.db.transaction().execute((trx) => fn(createRepositories(trx, database.dialect, secrets)));
}

/**
 * SQLite with several processes on one file (two panels, the admin CLI beside a panel): a deferred
 * transaction that reads and then writes cannot wait for the write lock — SQLite answers "database
 * is locked" at once instead of deadlocking. BEGIN IMMEDIATE takes the write lock up front, where
 * busy_timeout applies, so such transactions queue instead of failing.
 */
function sqliteImmediateTransaction(database: Database, secrets: SecretBox): TransactionRunner {
  return (fn) => database.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(createRepositories(conn, database.dialect, secrets));
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      // Never hand the shared connection back with a transaction still open.
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
