import type { Clock } from './deps.ts';

/**
 * Fixed-window counters in memory (per process). Good enough for a single panel; several panels
 * behind a balancer each enforce their own share.
 */
export class RateWindow {
  private readonly hits = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: number, private readonly windowSeconds: number, private readonly clock: Clock) {}

  /** Counts one hit for `key`; `allowed` false once the window is full. */
  hit(key: string): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const now = this.clock().getTime();
    const windowMs = this.windowSeconds * 1000;
    let w = this.hits.get(key);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, count: 0 };
      this.hits.set(key, w);
      if (this.hits.size > 10_000) this.sweep(now, windowMs);
    }
    w.count++;
    const retryAfterSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    return { allowed: w.count <= this.limit, remaining: Math.max(0, this.limit - w.count), retryAfterSeconds };
  }

  /** Seconds until `key` may try again, or 0 when its window still has room. */
  blockedFor(key: string): number {
    const now = this.clock().getTime();
    const w = this.hits.get(key);
    if (!w || now - w.start >= this.windowSeconds * 1000 || w.count < this.limit) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowSeconds * 1000 - now) / 1000));
  }

  /** Forget a key (a successful login clears its failures). */
  clear(key: string): void {
    this.hits.delete(key);
  }

  private sweep(now: number, windowMs: number): void {
    for (const [k, w] of this.hits) if (now - w.start >= windowMs) this.hits.delete(k);
  }
}
