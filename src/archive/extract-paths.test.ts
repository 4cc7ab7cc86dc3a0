import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanName } from './extract-paths.ts';

test('cleanName: plain names keep their text (minus one trailing slash); others are cleaned or refused', () => {
  assert.deepEqual(cleanName('config/mod/a.toml'), { rel: 'config/mod/a.toml' });
  assert.deepEqual(cleanName('world/'), { rel: 'world' });
  assert.deepEqual(cleanName('.hidden/..dots/...'), { rel: '.hidden/..dots/...' });
  assert.deepEqual(cleanName('./a//b/./c/'), { rel: 'a/b/c' });
  assert.deepEqual(cleanName('a//'), { rel: 'a' });
  assert.equal(cleanName('./'), null);
  assert.equal(cleanName(''), null);
  assert.deepEqual(cleanName('/etc/passwd'), { reason: 'absolute path' });
  assert.deepEqual(cleanName('a/../../b'), { reason: 'path contains a .. component' });
  assert.deepEqual(cleanName('..'), { reason: 'path contains a .. component' });
  assert.deepEqual(cleanName('a/..'), { reason: 'path contains a .. component' });
  assert.deepEqual(cleanName('a/.'), { rel: 'a' });
  assert.deepEqual(cleanName('.'), null);
});
