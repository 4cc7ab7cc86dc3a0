import type { Repos } from '../repositories/index.ts';
import type { Clock } from './deps.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** Expired windows are swept once per this many hits of one process (the table stays small). */
const SWEEP_EVERY = 500;

/** A lease taken within this long of the last one for the same key doubles in size (a busy key). */
const BUSY_MS = 1_000;

export interface RateLimiterOptions {
  /**
   * Largest slice of a window's allowance one process may take in one write (leases); 1 (the
   * default) counts every hit in the database. See `hit`.
   */
  maxLease?: number;
}

/** Slots of the current window this process holds for one key (see `hit`). */
interface Lease {
  windowEnd: number;
  /** Granted slots not used yet. */
  left: number;
  /** The window's count in the database when this lease was taken (every process's leases). */
  counted: number;
  /** The size of the last lease taken, and when. */
  size: number;
  takenAt: number;
}

/**
 * A fixed-window limit counted in the database, so it holds across every panel process on it
 * (two panels behind a balancer allow `limit` hits per window between them, not each).
 *
 * With `maxLease` > 1 a process takes a slice of the window's allowance in one write and spends it
 * from memory (docs/benchmarks.md, the load section: one write per client API request was the
 * route's largest wall-clock cost on SQLite). Every allowed hit is a slot granted by the
 * database, so the panels together never allow more than `limit` in a window. A key starts with
 * leases of 1 (every hit counted at once, exact across panels); a key that needs a new lease
 * within BUSY_MS of the last one doubles it, up to `maxLease` and never more than an eighth of
 * what is left of the window. Slots one panel holds unused are lost to the others until the
 * window ends: a client spreading a burst over several panels may be refused up to
 * (panels − 1) × `maxLease` hits before the limit, never after it.
 */
export class RateLimiter {
  #sinceSweep = 0;
  readonly #leases = new Map<string, Lease>();
  readonly #taking = new Map<string, Promise<RateDecision>>();
  readonly #maxLease: number;

  constructor(
    private readonly repos: Pick<Repos, 'rateLimits'>,
    private readonly clock: Clock,
    /** Key prefix: one table holds every limit. */
    private readonly scope: string,
    private readonly limit: number,
    private readonly windowSeconds: number,
    opts: RateLimiterOptions = {},
  ) {
    this.#maxLease = Math.max(1, Math.floor(opts.maxLease ?? 1));
  }

  /** Counts one hit for `key`; `allowed` false once the window already held `limit` hits. */
  async hit(key: string): Promise<RateDecision> {
    for (;;) {
      const now = this.clock().getTime();
      const held = this.#leases.get(key);
      if (held && held.left > 0 && now < held.windowEnd) {
        held.left--;
        return this.decision(true, held, now);
      }
      // Concurrent requests of one key wait for the lease being taken rather than each taking one.
      const pending = this.#taking.get(key);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    if (this.#maxLease === 1) return this.take(key);
    const taking = this.take(key);
    this.#taking.set(key, taking);
    try {
      return await taking;
    } finally {
      this.#taking.delete(key);
    }
  }

  private async take(key: string): Promise<RateDecision> {
    const now = this.clock().getTime();
    const held = this.#leases.get(key);
    const size = this.leaseSize(held, now);
    const w = await this.repos.rateLimits.take(this.key(key), now, this.windowSeconds * 1000, size);
    if (++this.#sinceSweep >= SWEEP_EVERY) {
      this.#sinceSweep = 0;
      await this.repos.rateLimits.deleteExpired(now);
    }
    // The slots of this take that fall within the limit (the count may already be past it).
    const granted = Math.max(0, Math.min(size, this.limit - (w.hits - size)));
    const lease: Lease = { windowEnd: w.expiresAt, left: Math.max(0, granted - 1), counted: w.hits, size, takenAt: now };
    if (this.#maxLease > 1) {
      this.#leases.set(key, lease);
      if (this.#leases.size > 10_000) this.#leases.delete(this.#leases.keys().next().value!);
    }
    return this.decision(granted > 0, lease, now);
  }

  /** Forget a key (a successful login clears its attempts). */
  async clear(key: string): Promise<void> {
    this.#leases.delete(key);
    await this.repos.rateLimits.delete(this.key(key));
  }

  private leaseSize(held: Lease | undefined, now: number): number {
    if (this.#maxLease === 1 || !held || now >= held.windowEnd) return 1;
    const busy = now - held.takenAt < BUSY_MS;
    const wanted = busy ? held.size * 2 : 1;
    return Math.max(1, Math.min(wanted, this.#maxLease, Math.floor((this.limit - held.counted) / 8)));
  }

  private decision(allowed: boolean, lease: Lease, now: number): RateDecision {
    return {
      allowed,
      // What the database had left when the lease was taken, plus this process's unused slots.
      remaining: Math.max(0, this.limit - lease.counted + lease.left),
      retryAfterSeconds: Math.max(1, Math.ceil((lease.windowEnd - now) / 1000)),
    };
  }

  private key(key: string): string {
    return `${this.scope}:${key}`;
  }
}
