import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../core/app-error.ts';
import { ArchiveError } from '../../archive/archive-error.ts';
import { daemonErrors } from '../errors.ts';
import { FailureReasons, JobCancelled, failureReasonOf } from './failure-reason.ts';

test('reasons are short, user-safe sentences; the job signal wins', () => {
  const cancelled = new AbortController();
  cancelled.abort(new JobCancelled(FailureReasons.cancelled));
  assert.equal(failureReasonOf(new Error('/srv/secret/path: aborted'), cancelled.signal), 'cancelled');
  const shutDown = new AbortController();
  shutDown.abort(new JobCancelled(FailureReasons.shutDown));
  assert.equal(failureReasonOf(new Error('x'), shutDown.signal), FailureReasons.shutDown);

  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write /var/lib/x'), { code: 'ENOSPC' });
  assert.equal(failureReasonOf(new ArchiveError('E_ARCHIVE_IO', 'write failed', { cause: enospc })), 'disk full');
  assert.equal(failureReasonOf(daemonErrors.panel('Error response from Panel: S3RefusedException: … (HTTP/424)', 424, undefined, 'S3 refused the credentials (SignatureDoesNotMatch)')), 'S3 refused the credentials (SignatureDoesNotMatch)');
  assert.equal(failureReasonOf(daemonErrors.panel('gone', 404)), FailureReasons.panelForgot);
  assert.equal(failureReasonOf(daemonErrors.panel('down', null)), FailureReasons.panelUnreachable);
  assert.equal(failureReasonOf(new AppError('E_S3_PART', 502, 'uploading part failed: …', { meta: { status: 404 } })), 'S3 no longer has the upload (it was aborted)');
  assert.equal(failureReasonOf(new ArchiveError('E_ARCHIVE_CORRUPT', 'bad header at 0x1234')), FailureReasons.corrupt);
  const unknown = failureReasonOf(new Error('something with /etc/passwd in it'));
  assert.equal(unknown, FailureReasons.unexpected);
  assert.ok(!unknown.includes('/'));
});
