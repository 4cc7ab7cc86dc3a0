/**
 * ResticService against the real restic on repositories in odd states: a lock held by another
 * restic (waited for, with backoff), a lock left by a killed restic (cleared as stale before the
 * first job), a damaged repository, a missing binary; and the failure sentences restic's messages
 * map to.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitUntil } from './support/helpers.ts';
import { ResticService } from '../../src/daemon/restic/restic-service.ts';
import { ResticError, classifyResticError, RESTIC_REASONS } from '../../src/daemon/restic/restic-cli.ts';
import { failureReasonOf } from '../../src/daemon/services/failure-reason.ts';

let dir: ReturnType<typeof tempDir>;
let repo: { repository: string; password: string };
const env = () => ({ bin: 'restic', cacheDir: join(dir.path, 'cache') });

function resticEnv() {
  return { ...process.env, RESTIC_REPOSITORY: repo.repository, RESTIC_PASSWORD: repo.password };
}

/** A restic that holds a (non-exclusive) lock until its stdin is closed. */
function lockHolder() {
  const child = spawn('restic', ['backup', '--stdin', '--stdin-filename', 'held.bin', '--tag', 'holder'], { env: resticEnv(), stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.write('x');
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited };
}

/** Lock files (not the temp file restic writes one through, which a kill may leave behind). */
const locks = () => readdirSync(join(repo.repository, 'locks')).filter((n) => !n.includes('-tmp-'));

before(() => {
  dir = tempDir('bw-restic-repo-');
  repo = { repository: join(dir.path, 'repo'), password: 'pw-for-this-test-only' };
  execFileSync('restic', ['init'], { env: resticEnv() });
});
after(() => dir?.cleanup());

test('a lock held by another restic is waited for with backoff; with no retries left the job fails "locked"', async () => {
  const holder = lockHolder();
  await waitUntil(() => locks().length > 0, 15_000, 'the holder to take its lock');
  const impatient = new ResticService(env(), { lockAttempts: 1 });
  await assert.rejects(impatient.prune(repo), (err: ResticError) => err.kind === 'locked' && err.message === RESTIC_REASONS.locked);

  let released = false;
  const patient = new ResticService(env(), { lockAttempts: 8, lockBaseMs: 100 });
  const pruned = patient.prune(repo).then(() => released);
  // The exclusive prune can only succeed after the holder let go.
  setTimeout(() => {
    released = true;
    holder.child.stdin.end();
  }, 300);
  assert.equal(await holder.exited, 0);
  assert.equal(await pruned, true, 'prune succeeded only after the lock was released');
});

test('a lock left by a killed restic is cleared (restic unlock, stale only) before the first job after a start', async () => {
  const holder = lockHolder();
  await waitUntil(() => locks().length > 0, 15_000, 'the holder to take its lock');
  holder.child.kill('SIGKILL');
  await holder.exited;
  assert.ok(locks().length > 0, 'the killed restic left its lock');
  const fresh = new ResticService(env(), { lockAttempts: 1 });
  assert.equal(await fresh.findSnapshot(repo, 'no-such-server', 'no-such-backup'), null);
  assert.deepEqual(locks(), []);
  await fresh.prune(repo); // exclusive: no lock left in the way
});

test('a damaged repository fails its check as "damaged"; a missing restic names the package', async () => {
  const data = join(dir.path, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'f.bin'), 'some content that lands in a pack file');
  execFileSync('restic', ['backup', '--tag', 'damage', '.'], { env: resticEnv(), cwd: data });
  const service = new ResticService(env(), { lockAttempts: 1 });
  await service.checkRepository(repo, '100%');
  // Flip bytes inside every pack file (a failing disk); restic's pack hashes no longer match.
  for (const sub of readdirSync(join(repo.repository, 'data'))) {
    for (const pack of readdirSync(join(repo.repository, 'data', sub))) {
      const path = join(repo.repository, 'data', sub, pack);
      chmodSync(path, 0o600);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(16, 0x58), 0, 16, 10);
      closeSync(fd);
    }
  }
  await assert.rejects(service.checkRepository(repo, '100%'), (err: ResticError) => err.kind === 'corrupt' && failureReasonOf(err) === RESTIC_REASONS.corrupt);

  const missing = new ResticService({ bin: join(dir.path, 'no-restic-here'), cacheDir: join(dir.path, 'cache') });
  await assert.rejects(missing.check(), (err: ResticError) => err.kind === 'missing' && /Debian package "restic"/.test(failureReasonOf(err)));
});

test("restic's messages map to stored failure sentences (wrong password, no repository, disk full, partial snapshot)", () => {
  assert.equal(classifyResticError('Fatal: wrong password or no key found\n', 1), 'wrong_password');
  assert.equal(classifyResticError('Fatal: unable to open config file: stat /x/config: no such file or directory\nIs there a repository at the following location?\n/x', 1), 'no_repository');
  assert.equal(classifyResticError('Fatal: unable to save snapshot: write /repo/data/ab/abcd: no space left on device', 1), 'disk_full');
  assert.equal(classifyResticError('unable to create lock in backend: repository is already locked by PID 7 on node-a', 1), 'locked');
  assert.equal(classifyResticError('error: open /srv/x: permission denied\nWarning: at least one source file could not be read', 3), 'unreadable_files');
  // A refused S3 signature also makes restic ask whether there is a repository: it is the credentials.
  assert.equal(classifyResticError('Fatal: unable to open config file: Stat: The request signature we calculated does not match the signature you provided. Check your key and signing method.\nIs there a repository at the following location?\ns3:http://127.0.0.1:9000/b/r', 1), 's3_denied');
  assert.equal(classifyResticError('Fatal: unable to open config file: Stat: The AWS Access Key Id you provided does not exist in our records.\nIs there a repository at the following location?', 1), 's3_denied');
  assert.equal(classifyResticError('something else', 1), 'failed');
});
