import type { Repos } from '../repositories/index.ts';
import type { Clock } from './deps.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** Expired windows are swept once per this many hits of one process (the table stays small). */
const SWEEP_EVERY = 500;

/** A key's hits are counted per second in memory; leases grow with that rate (see `hit`). */
const RATE_BUCKET_MS = 1_000;
/** A lease is an eighth of a second's hits: a key below 16 hits a second is counted hit by hit. */
const LEASE_PER_RATE = 8;

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
  /** Hits of this key in this process: in the second from `bucketStart`, and in the second before. */
  bucketStart: number;
  bucketHits: number;
  lastBucketHits: number;
}

/**
 * A fixed-window limit counted in the database, so it holds across every panel process on it
 * (two panels behind a balancer allow `limit` hits per window between them, not each).
 *
 * With `maxLease` > 1 a process takes a slice of the window's allowance in one write and spends it
 * from memory (docs/benchmarks.md, the load section: one write per client API request was the
 * route's largest wall-clock cost on SQLite). Every allowed hit is a slot granted by the
 * database, so the panels together never allow more than `limit` in a window. A lease is an
 * eighth of the key's hits in this process over the last second, up to `maxLease` and never more
 * than an eighth of what is left of the window: a key below 16 hits a second is counted hit by hit
 * (exact across panels, `remaining` too). Slots one panel holds unused are lost to the others until the
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
    if (this.#maxLease === 1) return this.take(key, undefined);
    let state = this.#leases.get(key);
    const first = this.clock().getTime();
    if (!state) {
      state = { windowEnd: 0, left: 0, counted: 0, bucketStart: first, bucketHits: 0, lastBucketHits: 0 };
      this.#leases.set(key, state);
      if (this.#leases.size > 10_000) this.#leases.delete(this.#leases.keys().next().value!);
    }
    if (first - state.bucketStart >= RATE_BUCKET_MS) {
      state.lastBucketHits = first - state.bucketStart < 2 * RATE_BUCKET_MS ? state.bucketHits : 0;
      state.bucketStart = first;
      state.bucketHits = 0;
    }
    state.bucketHits++;
    for (;;) {
      const now = this.clock().getTime();
      if (state.left > 0 && now < state.windowEnd) {
        state.left--;
        return this.decision(true, state, now);
      }
      // Concurrent requests of one key wait for the lease being taken rather than each taking one.
      const pending = this.#taking.get(key);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    const taking = this.take(key, state);
    this.#taking.set(key, taking);
    try {
      return await taking;
    } finally {
      this.#taking.delete(key);
    }
  }

  private async take(key: string, state: Lease | undefined): Promise<RateDecision> {
    const now = this.clock().getTime();
    const size = state ? this.leaseSize(state, now) : 1;
    const w = await this.repos.rateLimits.take(this.key(key), now, this.windowSeconds * 1000, size);
    if (++this.#sinceSweep >= SWEEP_EVERY) {
      this.#sinceSweep = 0;
      await this.repos.rateLimits.deleteExpired(now);
    }
    // The slots of this take that fall within the limit (the count may already be past it).
    const granted = Math.max(0, Math.min(size, this.limit - (w.hits - size)));
    const lease = state ?? { windowEnd: 0, left: 0, counted: 0, bucketStart: now, bucketHits: 0, lastBucketHits: 0 };
    lease.windowEnd = w.expiresAt;
    lease.left = Math.max(0, granted - 1);
    lease.counted = w.hits;
    return this.decision(granted > 0, lease, now);
  }

  /** Forget a key (a successful login clears its attempts). */
  async clear(key: string): Promise<void> {
    this.#leases.delete(key);
    await this.repos.rateLimits.delete(this.key(key));
  }

  private leaseSize(state: Lease, now: number): number {
    const rate = Math.max(state.bucketHits, state.lastBucketHits);
    const leftInWindow = now >= state.windowEnd ? this.limit : this.limit - state.counted;
    return Math.max(1, Math.min(this.#maxLease, Math.floor(rate / LEASE_PER_RATE), Math.floor(leftInWindow / LEASE_PER_RATE)));
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
