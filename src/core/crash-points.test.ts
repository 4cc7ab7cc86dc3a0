import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { armCrashPoint, crashPoint } from './crash-points.ts';

test('unarmed points do nothing; an armed one stops the flow there, once', async () => {
  await crashPoint('backup.create:before-daemon');
  let hits = 0;
  const disarm = armCrashPoint('backup.delete:before-remove', () => hits++);
  let after = false;
  void crashPoint('backup.delete:before-remove').then(() => { after = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(hits, 1);
  assert.equal(after, false, 'the flow never continues past the point');
  await crashPoint('backup.delete:before-remove'); // disarmed after the first hit
  disarm();
});

test('BACKWING_CRASH_AT makes a process kill itself with SIGKILL at that point', () => {
  const mod = fileURLToPath(new URL('./crash-points.ts', import.meta.url));
  const script = `const { crashPoint } = await import(${JSON.stringify(mod)}); await crashPoint('backup.delete:before-remove'); await crashPoint('backup.restore:before-daemon'); console.log('survived');`;
  const run = (env: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, BACKWING_CRASH_AT: env }, encoding: 'utf8' });
  const killed = run('backup.restore:before-daemon');
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal(killed.stdout, '');
  const spared = run('backup.create:before-daemon');
  assert.equal(spared.status, 0, spared.stderr);
  assert.equal(spared.stdout.trim(), 'survived');
});
