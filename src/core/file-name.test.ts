import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupFileName } from './file-name.ts';

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
