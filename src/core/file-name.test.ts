import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupFileName, isSafeBackupFileName } from './file-name.ts';

const U = '3f2a9c1e-7b4d-4e8a-9c0f-1234567890ab';

test('<name>-<short uuid>.tar.gz with safe characters only', () => {
  assert.equal(backupFileName('Nightly: world 1', U), 'Nightly-world-1-3f2a9c1e.tar.gz');
  assert.equal(backupFileName('../../etc/passwd', U), 'etc-passwd-3f2a9c1e.tar.gz');
  assert.equal(backupFileName('Café déjà vu', U), 'Cafe-deja-vu-3f2a9c1e.tar.gz');
  assert.equal(backupFileName('日本語', U), 'backup-3f2a9c1e.tar.gz');
  assert.equal(backupFileName('', U), 'backup-3f2a9c1e.tar.gz');
  assert.equal(backupFileName('x'.repeat(200), U), `${'x'.repeat(60)}-3f2a9c1e.tar.gz`);
  assert.match(backupFileName('a\nb\0c$(rm -rf)', U), /^[A-Za-z0-9._-]+$/);
});

test('only names backupFileName makes pass as safe for a Content-Disposition header', () => {
  for (const name of ['Nightly: world 1', '../../etc/passwd', '', 'x'.repeat(200), 'a\nb"c']) assert.ok(isSafeBackupFileName(backupFileName(name, U)), name);
  for (const bad of ['a".tar.gz', '../x.tar.gz', 'x.tar.gz\r\nSet-Cookie: a=b', '.hidden.tar.gz', 'x.zip', `${'x'.repeat(100)}.tar.gz`, 42, undefined]) {
    assert.equal(isSafeBackupFileName(bad), false, String(bad));
  }
});
