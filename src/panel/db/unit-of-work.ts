import { createRepositories, type Repos } from '../repositories/index.ts';
import type { Database } from './database.ts';

/**
 * Runs `fn` with repositories bound to one transaction. Keep network calls outside: a transaction
 * held open across a daemon or S3 call blocks every other writer on SQLite.
 */
export type TransactionRunner = <T>(fn: (repos: Repos) => Promise<T>) => Promise<T>;

export function transactionRunner(database: Database): TransactionRunner {
  return (fn) => database.db.transaction().execute((trx) => fn(createRepositories(trx, database.dialect)));
}
