import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, fieldErrors, readCookie } from './http.ts';

test('readCookie finds the XSRF token among other cookies and decodes it', () => {
  assert.equal(readCookie('XSRF-TOKEN', 'a=1; XSRF-TOKEN=abc%3D%3D; b=2'), 'abc==');
  assert.equal(readCookie('XSRF-TOKEN', 'XSRF-TOKEN-OLD=x'), null);
  assert.equal(readCookie('XSRF-TOKEN', ''), null);
});

test('ApiError speaks the panel detail, or plain words when there is none', () => {
  const refused = new ApiError(400, [{ code: 'BackupLockedException', status: '400', detail: 'Cannot delete a backup that is marked as locked.' }], 'fallback');
  assert.equal(refused.message, 'Cannot delete a backup that is marked as locked.');
  assert.equal(refused.code, 'BackupLockedException');
  assert.equal(refused.status, 400);
  const two = new ApiError(422, [{ detail: 'The name field is too long.' }, { detail: 'The ignored field must be a string.' }], 'x');
  assert.equal(two.message, 'The name field is too long. The ignored field must be a string.');
  assert.equal(new ApiError(502, [], 'The panel had a problem.').message, 'The panel had a problem.');
});

test('fieldErrors keys 422 details by meta.source_field, first one per field; anything else gives none', () => {
  const err = new ApiError(422, [
    { detail: 'The minute field is not a valid cron value.', meta: { rule: 'cron', source_field: 'minute' } },
    { detail: 'The minute field is required.', meta: { rule: 'required', source_field: 'minute' } },
    { detail: 'The name field is required.', meta: { rule: 'required', source_field: 'name' } },
    { detail: 'No field here.' },
  ], 'x');
  assert.deepEqual(fieldErrors(err), { minute: 'The minute field is not a valid cron value.', name: 'The name field is required.' });
  assert.deepEqual(fieldErrors(new ApiError(403, [{ detail: 'no', meta: { source_field: 'name' } }], 'x')), {});
  assert.deepEqual(fieldErrors(new Error('boom')), {});
});
