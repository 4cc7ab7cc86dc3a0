/**
 * Memory: a process loads what its configuration needs. `backwing up` with local disk and SQLite
 * must not load the AWS SDK (~25 MiB) or pg; the same stack with the S3 driver does load the SDK,
 * which shows the check can see it. Each run is a separate process, so its module registry is fresh.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./fixtures/loaded-modules.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bw-lazy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function loadedBy(name: string, env: Record<string, string>): string[] {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'APP_BACKUP_DRIVER' && k !== 'DATABASE_URL'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, join(tmp, name)], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { loaded: string[] }).loaded;
}

test('a local-disk, SQLite stack loads neither the AWS SDK nor pg', () => {
  assert.deepEqual(loadedBy('local', {}), []);
});

test('the same stack with the S3 driver loads the AWS SDK (and still not pg)', () => {
  const loaded = loadedBy('s3', {
    APP_BACKUP_DRIVER: 's3',
    AWS_BACKUPS_BUCKET: 'backups',
    AWS_ENDPOINT: 'http://127.0.0.1:9',
    AWS_USE_PATH_STYLE_ENDPOINT: 'true',
    AWS_ACCESS_KEY_ID: 'k',
    AWS_SECRET_ACCESS_KEY: 's',
  });
  assert.deepEqual(loaded, ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner']);
});
