import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow } from './rate-window.ts';

test('fixed window: allows `limit` hits, then refuses until the window ends', () => {
  let now = 1_000_000;
  const w = new RateWindow(3, 60, () => new Date(now));
  assert.deepEqual([w.hit('a').allowed, w.hit('a').allowed, w.hit('a').allowed], [true, true, true]);
  assert.equal(w.blockedFor('a'), 60, 'full window blocks before the next hit');
  assert.equal(w.blockedFor('b'), 0);
  const refused = w.hit('a');
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterSeconds, 60);
  assert.equal(w.hit('b').allowed, true, 'keys are independent');
  now += 59_000;
  assert.equal(w.hit('a').retryAfterSeconds, 1);
  now += 1_000;
  assert.equal(w.hit('a').allowed, true, 'new window');
  w.hit('a'); w.hit('a');
  assert.equal(w.hit('a').allowed, false);
  w.clear('a');
  assert.equal(w.hit('a').allowed, true);
});
