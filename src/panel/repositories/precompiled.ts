import type { Compilable, CompiledQuery } from 'kysely';
import { directRunner, namedStatement, type Executor } from '../db/database.ts';

/**
 * A query built and compiled by Kysely once per dialect, then run with new parameters. Building a
 * query (parsing each column reference, freezing the tree, compiling) cost more CPU than SQLite's
 * own work on the client API's hot path (measured: 18 named columns ≈ 340 µs to build, the query
 * itself ≈ 80 µs; docs/benchmarks.md, the load section).
 *
 * On PostgreSQL it also runs as a named prepared statement (database.ts, namedStatement).
 *
 * `build` must give the same SQL whatever the parameters (no branches on them) and must use each
 * parameter exactly once, in order: the first compilation checks the latter.
 */
export function precompiled<P extends unknown[], R>(build: (db: Executor, ...params: P) => Compilable<R>) {
  const byDialect = new Map<unknown, CompiledQuery<R>>();
  return async (db: Executor, ...params: P): Promise<R[]> => {
    const dialect = db.getExecutor().adapter.constructor;
    let compiled = byDialect.get(dialect);
    if (!compiled) {
      compiled = build(db, ...params).compile();
      const same = compiled.parameters.length === params.length && compiled.parameters.every((v, i) => v === params[i]);
      if (!same) throw new Error(`precompiled query: parameters ${JSON.stringify(compiled.parameters)} are not ${JSON.stringify(params)} in order: ${compiled.sql}`);
      byDialect.set(dialect, compiled);
      namedStatement(compiled.sql);
    }
    // On the root handle, straight to the driver when it can (database.ts, directRunner).
    const direct = directRunner(db)?.(compiled.sql, params);
    if (direct !== undefined) return (await direct) as R[];
    return (await db.executeQuery<R>({ ...compiled, parameters: params })).rows;
  };
}
