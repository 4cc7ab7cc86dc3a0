import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));

test('backwing daemon with a missing or invalid config exits 2 with one clear line', () => {
  const dir = tempDir();
  try {
    const missing = spawnSync(process.execPath, [BIN, 'daemon', '--config', join(dir.path, 'nope.yml')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.yml: cannot read the config file/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    const bad = join(dir.path, 'bad.yml');
    writeFileSync(bad, 'uuid: n\ntoken_id: t\ntoken: 0123456789abcdef\nremote: http://127.0.0.1:1\napi: {port: -1}\n');
    const invalid = spawnSync(process.execPath, [BIN, 'daemon', '--config', bad], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /api\.port must be between 0 and 65535/);
    assert.equal(invalid.stdout, '');
  } finally {
    dir.cleanup();
  }
});
