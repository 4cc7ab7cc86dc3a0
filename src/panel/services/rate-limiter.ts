import type { Repos } from '../repositories/index.ts';
import type { Clock } from './deps.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** Expired windows are swept once per this many hits of one process (the table stays small). */
const SWEEP_EVERY = 500;

/**
 * A fixed-window limit counted in the database, so it holds across every panel process on it
 * (two panels behind a balancer allow `limit` hits per window between them, not each).
 */
export class RateLimiter {
  #sinceSweep = 0;

  constructor(
    private readonly repos: Pick<Repos, 'rateLimits'>,
    private readonly clock: Clock,
    /** Key prefix: one table holds every limit. */
    private readonly scope: string,
    private readonly limit: number,
    private readonly windowSeconds: number,
  ) {}

  /** Counts one hit for `key`; `allowed` false once the window already held `limit` hits. */
  async hit(key: string): Promise<RateDecision> {
    const now = this.clock().getTime();
    const w = await this.repos.rateLimits.hit(this.key(key), now, this.windowSeconds * 1000);
    if (++this.#sinceSweep >= SWEEP_EVERY) {
      this.#sinceSweep = 0;
      await this.repos.rateLimits.deleteExpired(now);
    }
    return {
      allowed: w.hits <= this.limit,
      remaining: Math.max(0, this.limit - w.hits),
      retryAfterSeconds: Math.max(1, Math.ceil((w.expiresAt - now) / 1000)),
    };
  }

  /** Forget a key (a successful login clears its attempts). */
  async clear(key: string): Promise<void> {
    await this.repos.rateLimits.delete(this.key(key));
  }

  private key(key: string): string {
    return `${this.scope}:${key}`;
  }
}
