import { sql } from 'kysely';
import type { Executor } from '../db/database.ts';
import { precompiled } from './precompiled.ts';

export interface WindowCount {
  hits: number;
  /** When the window ends, in milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * Fixed-window counters in `rate_limits`. A hit (or a lease of several) is one INSERT … ON CONFLICT DO UPDATE: atomic on
 * PostgreSQL (the conflicting row is locked) and on SQLite (one writer at a time), so panels
 * racing on one key never lose a count.
 */
// Every client API request counts one hit: built once (precompiled.ts). The new window's start and
// end are the inserted row's (`excluded`), so each parameter appears once. Every SET expression
// sees the old row, so the three CASEs agree on whether the window ended.
const ended = sql<boolean>`rate_limits.expires_at <= excluded.window_start`;
const upsertHit = precompiled((db: Executor, key: string, nowMs: number, hits: number, endMs: number) => db.insertInto('rate_limits')
  .values({ key, window_start: nowMs, hits, expires_at: endMs })
  .onConflict((oc) => oc.column('key').doUpdateSet({
    hits: sql<number>`case when ${ended} then excluded.hits else rate_limits.hits + excluded.hits end`,
    window_start: sql<number>`case when ${ended} then excluded.window_start else rate_limits.window_start end`,
    expires_at: sql<number>`case when ${ended} then excluded.expires_at else rate_limits.expires_at end`,
  }))
  .returning(['hits', 'expires_at']));

export class RateLimitsRepository {
  constructor(private readonly db: Executor) {}

  async hit(key: string, nowMs: number, windowMs: number): Promise<WindowCount> {
    return this.take(key, nowMs, windowMs, 1);
  }

  /** Counts `n` hits at once (a panel's lease of a window's slots, services/rate-limiter.ts); the count after them. */
  async take(key: string, nowMs: number, windowMs: number, n: number): Promise<WindowCount> {
    const [row] = await upsertHit(this.db, key, nowMs, n, nowMs + windowMs);
    return { hits: Number(row!.hits), expiresAt: Number(row!.expires_at) };
  }

  async find(key: string): Promise<WindowCount | undefined> {
    const row = await this.db.selectFrom('rate_limits').select(['hits', 'expires_at']).where('key', '=', key).executeTakeFirst();
    return row ? { hits: Number(row.hits), expiresAt: Number(row.expires_at) } : undefined;
  }

  async delete(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  }

  /** Drops windows that ended before `nowMs`; returns how many. */
  async deleteExpired(nowMs: number): Promise<number> {
    const r = await this.db.deleteFrom('rate_limits').where('expires_at', '<', nowMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
