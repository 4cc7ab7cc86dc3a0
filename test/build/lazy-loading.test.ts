/**
 * Start-up and memory: a process loads what its command and configuration need. `--version` answers
 * before the CLI framework loads; a command loads its own module and not the others'. `backwing up` with local disk and SQLite
 * must not load the AWS SDK (~25 MiB) or pg; the same stack with the S3 driver does load the SDK,
 * which shows the check can see it. Each run is a separate process, so its module registry is fresh.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./fixtures/loaded-modules.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('./fixtures/record-loads.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));
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

/** Runs the CLI and returns every module URL it loaded (ESM loader, which sees each import). */
function cliLoads(name: string, args: string[]): { code: number | null; stdout: string; urls: string[] } {
  const record = join(tmp, `${name}.loads`);
  const r = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], { env: { ...process.env, RECORD_LOADS: record }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, urls: readFileSync(record, 'utf8').trim().split('\n') };
}

test('`backwing --version` answers without loading commander or any command', () => {
  const r = cliLoads('version', ['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.ok(r.urls.some((u) => u.includes('/cli/main.')), 'the recorder saw the CLI entry');
  assert.deepEqual(r.urls.filter((u) => u.includes('/commander/') || u.includes('.command.')), []);
});

test('`backwing archive …` loads the archive command only: no panel, daemon or HTTP server', () => {
  const r = cliLoads('archive', ['archive', 'verify', join(tmp, 'missing.tar.gz')]);
  assert.equal(r.code, 2, 'a missing file is a usage error');
  assert.ok(r.urls.some((u) => u.includes('/cli/archive.command.')));
  assert.deepEqual(r.urls.filter((u) => /\/(panel|daemon|stack)\/|\/fastify\/|\/cli\/(up|panel|daemon|admin|backups)\.command\./.test(u)), []);
});
