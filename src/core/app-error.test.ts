import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { AppError, isAppError, errorMessage } from './app-error.ts';
import { Secret } from './secret.ts';

test('AppError carries code, status, meta and cause', () => {
  const cause = new Error('disk full');
  const err = new AppError('E_TEST', 409, 'conflict', { cause, meta: { field: 'x' }, retryable: true });
  assert.equal(err.code, 'E_TEST');
  assert.equal(err.status, 409);
  assert.equal(err.message, 'conflict');
  assert.equal(err.cause, cause);
  assert.deepEqual(err.meta, { field: 'x' });
  assert.equal(err.retryable, true);
  assert.ok(isAppError(err));
  assert.ok(!isAppError(cause));
  assert.equal(errorMessage('plain'), 'plain');
});

test('Secret never prints its value', () => {
  const s = new Secret('hunter2');
  assert.equal(s.reveal(), 'hunter2');
  assert.equal(String(s), '**redacted**');
  assert.equal(JSON.stringify({ s }), '{"s":"**redacted**"}');
  assert.ok(!inspect(s).includes('hunter2'));
});
