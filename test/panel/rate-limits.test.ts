/**
 * Per-user client API rate limit (upstream APP_API_CLIENT_RATELIMIT) and sign-in throttling.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshSqliteUrl } from '../support/postgres.ts';
import { startHarness, type Harness } from './support/harness.ts';

describe('rate limits', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ databaseUrl: freshSqliteUrl(), daemon: 'stub', env: { APP_API_CLIENT_RATELIMIT: '5', LOGIN_ATTEMPT_LIMIT: '3' } });
  });
  after(async () => {
    await h?.close();
  });

  test('client API: limit per user per minute, with X-RateLimit headers and a 429 + Retry-After after', async () => {
    const first = await h.api('GET', '/api/client');
    assert.equal(first.headers.get('x-ratelimit-limit'), '5');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '4');
    for (let i = 0; i < 4; i++) assert.equal((await h.api('GET', '/api/client')).status, 200);
    const limited = await h.api('GET', '/api/client');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.errors[0].code, 'TooManyRequestsHttpException');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    const other = await h.user('other-rate@example.com');
    assert.equal((await h.api('GET', '/api/client', { key: other.key })).status, 200, 'another user has their own budget');
  });

  test('sign-in: after 3 failures for an address and email, 429 even with the right password', async () => {
    await h.ctx.services.users.create({ email: 'victim@example.com', password: 'right-password' });
    for (let i = 0; i < 3; i++) {
      assert.equal((await h.api('POST', '/auth/login', { key: null, body: { email: 'victim@example.com', password: 'guess' } })).status, 401);
    }
    const blocked = await h.api('POST', '/auth/login', { key: null, body: { email: 'victim@example.com', password: 'right-password' } });
    assert.equal(blocked.status, 429);
    assert.match(blocked.body.errors[0].detail, /Too many login attempts/);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    await h.ctx.services.users.create({ email: 'bystander@example.com', password: 'right-password' });
    assert.equal((await h.api('POST', '/auth/login', { key: null, body: { email: 'bystander@example.com', password: 'right-password' } })).status, 200);
  });
});
