import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter, tryAgainSentence } from './retry-after.ts';

test('Retry-After as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T10:00:00Z');
  assert.equal(parseRetryAfter('420', now), 420);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 10:01:30 GMT', now), 90);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

test('the sentence', () => {
  assert.equal(tryAgainSentence(1), 'You can try again in 1 second.');
  assert.equal(tryAgainSentence(40), 'You can try again in 40 seconds.');
  assert.equal(tryAgainSentence(420), 'You can try again in 7 minutes.');
  assert.equal(tryAgainSentence(61), 'You can try again in 2 minutes.');
  assert.equal(tryAgainSentence(3600), 'You can try again in 1 hour.');
  assert.equal(tryAgainSentence(7500), 'You can try again in 2 hours 5 minutes.');
});
