/**
 * The database-backed fixed window behind the login attempt limit and the client API rate limit:
 * its window arithmetic, and that hits racing from two panel contexts (two connection pools, as
 * two panel processes have) on one database never let more than `limit` through.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext } from '../../src/panel/context.ts';
import { RateLimiter } from '../../src/panel/services/rate-limiter.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';

for (const db of await testDatabaseUrls()) {
  describe(`rate limits in the ${db.name} database`, () => {
    test('fixed window: `limit` hits pass, then refusals until the window ends; keys are independent; clear forgets', async () => {
      const ctx = await openPanelContext(loadPanelConfig({ APP_KEY: TEST_APP_KEY, DATABASE_URL: await db.url() }));
      try {
        let now = 1_000_000_000_000;
        const w = new RateLimiter(ctx.repos, () => new Date(now), 't', 3, 60);
        const first = await Promise.all([w.hit('a'), w.hit('a'), w.hit('a')]);
        assert.deepEqual(first.map((r) => r.allowed), [true, true, true]);
        assert.deepEqual(first.map((r) => r.remaining).sort(), [0, 1, 2]);
        const refused = await w.hit('a');
        assert.equal(refused.allowed, false);
        assert.equal(refused.retryAfterSeconds, 60);
        assert.equal((await w.hit('b')).allowed, true, 'keys are independent');
        assert.equal((await new RateLimiter(ctx.repos, () => new Date(now), 'other', 3, 60).hit('a')).allowed, true, 'scopes are independent');
        now += 59_000;
        assert.equal((await w.hit('a')).retryAfterSeconds, 1);
        now += 1_000;
        assert.equal((await w.hit('a')).allowed, true, 'a new window');
        await w.hit('a');
        await w.hit('a');
        assert.equal((await w.hit('a')).allowed, false);
        await w.clear('a');
        assert.equal((await w.hit('a')).allowed, true);
        now += 3_600_000;
        assert.ok((await ctx.repos.rateLimits.deleteExpired(now)) >= 2, 'ended windows are swept');
        assert.equal(await ctx.repos.rateLimits.find('t:a'), undefined);
      } finally {
        await ctx.close();
      }
    });

    test('hits racing from two panel contexts on one database: exactly `limit` are allowed', async () => {
      const url = await db.url();
      const config = loadPanelConfig({ APP_KEY: TEST_APP_KEY, DATABASE_URL: url });
      const a = await openPanelContext(config);
      const b = await openPanelContext(config, { skipMigrations: true });
      try {
        const now = () => new Date(2_000_000_000_000);
        const la = new RateLimiter(a.repos, now, 'race', 10, 60);
        const lb = new RateLimiter(b.repos, now, 'race', 10, 60);
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? la : lb).hit('user-1')));
        assert.equal(results.filter((r) => r.allowed).length, 10);
        assert.equal((await a.repos.rateLimits.find('race:user-1'))!.hits, 40, 'every hit was counted');
      } finally {
        await b.close();
        await a.close();
      }
    });

    test('leases (the client API limit): a busy key takes slices of its window in one write each, and two panels together still allow exactly `limit`', async () => {
      const url = await db.url();
      const config = loadPanelConfig({ APP_KEY: TEST_APP_KEY, DATABASE_URL: url });
      const a = await openPanelContext(config);
      const b = await openPanelContext(config, { skipMigrations: true });
      try {
        let now = 3_000_000_000_000;
        const clock = () => new Date(now);
        let writes = 0;
        const counted = (repos: typeof a.repos) => ({ rateLimits: Object.assign(Object.create(repos.rateLimits), { take: (...args: Parameters<typeof repos.rateLimits.take>) => { writes++; return repos.rateLimits.take(...args); } }) });
        const la = new RateLimiter(counted(a.repos), clock, 'lease', 100, 60, { maxLease: 32 });
        const lb = new RateLimiter(counted(b.repos), clock, 'lease', 100, 60, { maxLease: 32 });
        // A key used now and then is counted hit by hit: exact across panels.
        assert.deepEqual([(await la.hit('k')).remaining, (await lb.hit('k')).remaining], [99, 98]);
        // Busy: 60 concurrent hits on one panel, few writes (concurrent hits wait for the lease being taken).
        writes = 0;
        const burst = await Promise.all(Array.from({ length: 60 }, () => la.hit('k')));
        assert.ok(burst.every((r) => r.allowed));
        assert.ok(writes <= 12, `${writes} writes for 60 hits`); // leases of 2, 4, 8, then at most an eighth of what is left
        // Both panels hammering the rest of the window: never more than the limit in total.
        const rest = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? la : lb).hit('k')));
        const allowed = 2 + 60 + rest.filter((r) => r.allowed).length;
        assert.ok(allowed <= 100, `${allowed} allowed`);
        assert.ok(allowed >= 100 - 2 * 32, `${allowed} allowed: unused slices are bounded`);
        const refused = rest.find((r) => !r.allowed)!;
        assert.deepEqual([refused.remaining, refused.retryAfterSeconds], [0, 60]);
        // The next window starts afresh, with a lease of one.
        now += 60_000;
        assert.deepEqual([(await la.hit('k')).allowed, (await lb.hit('k')).remaining], [true, 98]);
      } finally {
        await b.close();
        await a.close();
      }
    });
  });
}
