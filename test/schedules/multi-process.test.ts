import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testDatabaseUrls } from '../support/postgres.ts';
import { backupSchedule, events, liveBackups, openFixture, type Fixture } from './support.ts';

const CHILD = fileURLToPath(new URL('./fixtures/tick-process.ts', import.meta.url));
const SCHEDULES = 12;

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(pred: (l: string) => boolean, ms: number): Promise<string>;
}

function startChild(databaseUrl: string, now: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, databaseUrl, now], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    waiters.forEach((w) => w());
  });
  proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  return {
    proc,
    lines,
    waitFor: (pred, ms) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child timed out; stderr: ${stderr.slice(-2000)}`)), ms);
      const check = () => {
        const hit = lines.find(pred);
        if (hit !== undefined) { clearTimeout(timer); resolve(hit); }
      };
      waiters.push(check);
      proc.on('exit', (code) => { if (!lines.find(pred)) { clearTimeout(timer); reject(new Error(`child exited ${code}; stderr: ${stderr.slice(-2000)}`)); } });
      check();
    }),
  };
}

for (const db of await testDatabaseUrls()) {
  describe(`two panel processes on one ${db.name} database`, () => {
    let f: Fixture;
    let url: string;
    const children: Child[] = [];
    before(async () => {
      url = await db.url();
      f = await openFixture(url, { start: '2026-07-01T00:00:00.000Z', backupLimit: 100 });
    });
    after(async () => {
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
      await f.close();
    });

    it('fire every due schedule exactly once between them', async (t) => {
      const ids: number[] = [];
      for (let i = 0; i < SCHEDULES; i++) ids.push((await backupSchedule(f, { minute: '0', hour: '3' })).id);
      // Both processes see the same moment, after every schedule's 03:00 run came due.
      const now = '2026-07-01T03:00:05.000Z';
      children.push(startChild(url, now), startChild(url, now));
      await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready', 60_000)));
      for (const c of children) c.proc.stdin!.write('go\n');
      const results = await Promise.all(children.map(async (c) => JSON.parse(await c.waitFor((l) => l.startsWith('{'), 60_000)) as { fired: number[] }));
      await Promise.all(children.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r(null) : c.proc.on('exit', r)))));

      t.diagnostic(`fired per process: ${JSON.stringify(results.map((r) => r.fired.length))}`);
      const failures = await events(f, 'server:schedule.failed');
      if (failures.length > 0) t.diagnostic(`failed runs: ${JSON.stringify(failures.map((e) => e.properties.reason))}`);
      const all = results.flatMap((r) => r.fired).sort((a, b) => a - b);
      assert.deepEqual(all, ids, 'each schedule fired once, by exactly one process');
      assert.equal(f.daemon.creates().length, SCHEDULES);
      assert.equal((await liveBackups(f)).length, SCHEDULES);
      assert.equal((await events(f, 'server:schedule.execute')).length, SCHEDULES);
      for (const id of ids) {
        const v = await f.module.schedules.view(f.server, id);
        assert.equal(v.attributes.next_run_at, '2026-07-02T03:00:00+00:00');
        assert.equal(v.attributes.is_processing, false);
      }
    });
  });
}
