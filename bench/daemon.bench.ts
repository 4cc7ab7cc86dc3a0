/**
 * End-to-end daemon benchmark (run by `npm run bench -- --daemon`, or directly with
 * `node --import tsx bench/daemon.bench.ts [--shape small] [--shape mixed] [--dir PATH] [--rounds 3]`).
 *
 * The real daemon process (bin/backwing.js daemon) with a stand-in panel on loopback, as the daemon
 * tests run it. Per round: a backup through POST /api/servers/{uuid}/backup to local disk, timed
 * from the request to the panel receiving the report, beside what Wings does on the same tree
 * (`tar -cf - . | gzip -1`: gzip level 1 on about one core); then a restore of that backup with
 * truncate_directory, timed from the request to the restore report, beside emptying the directory
 * and `tar -xzf` of the same archive. Daemon CPU seconds come from /proc/<pid>/stat.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startFakePanel } from '../test/daemon/support/fake-panel.ts';
import { startDaemonProcess } from '../test/daemon/support/daemon-process.ts';
import { api, waitUntil } from '../test/daemon/support/helpers.ts';
import { ensureTree } from './generate-tree.ts';
import { fsType, median, q, subBenchArgs, timeShell } from './measure.ts';

const { shapes, base, rounds } = subBenchArgs(process.argv.slice(2));
const TICK_MS = 10; // /proc/<pid>/stat counts in USER_HZ = 100 on Linux

function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the state field
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const SERVER = randomUUID();
const root = join(base, 'daemon');
fs.rmSync(root, { recursive: true, force: true });
fs.mkdirSync(root, { recursive: true });
const work = join(base, 'daemon-work');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });

const panel = await startFakePanel({ servers: [SERVER] });
const daemon = await startDaemonProcess({ root, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, logLevel: 'warn' });
const call = api(daemon.url, panel.token);
const pid = daemon.proc.pid!;
const load0 = loadavg();
const lines: string[] = [];
try {
  await waitUntil(async () => (await call('GET', '/api/system')).json?.healthy === true, 30_000, 'servers loaded');
  const serverDir = join(daemon.data, SERVER);
  for (const shape of shapes) {
    const tree = ensureTree(base, shape);
    const runs = { backup: [] as number[], backupCpu: [] as number[], wings: [] as number[], wingsCpu: [] as number[], restore: [] as number[], restoreCpu: [] as number[], tar: [] as number[], tarCpu: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      fs.rmSync(serverDir, { recursive: true, force: true });
      fs.mkdirSync(serverDir, { recursive: true });
      timeShell(`cp -a ${q(tree.dir)}/. ${q(serverDir)}/`, work);
      const id = randomUUID();
      let cpu0 = cpuMsOf(pid);
      let t0 = Date.now();
      const res = await call('POST', `/api/servers/${SERVER}/backup`, { adapter: 'wings', uuid: id, ignore: '' });
      if (res.status !== 202) throw new Error(`backup request: ${res.status} ${res.text}`);
      const report = await panel.waitForReport((x) => x.path === `/backups/${id}`, 600_000);
      if (report.body.successful !== true) throw new Error(`backup failed: ${JSON.stringify(report.body)}`);
      runs.backup.push(report.at - t0);
      runs.backupCpu.push(cpuMsOf(pid) - cpu0);

      const wingsFile = join(work, 'wings.tar.gz');
      const w = timeShell(`tar -cf - -C ${q(serverDir)} . | gzip -1 > ${q(wingsFile)}`, work);
      runs.wings.push(w.ms);
      runs.wingsCpu.push(w.cpuMs);

      cpu0 = cpuMsOf(pid);
      t0 = Date.now();
      const rr = await call('POST', `/api/servers/${SERVER}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true });
      if (rr.status !== 202) throw new Error(`restore request: ${rr.status} ${rr.text}`);
      const restored = await panel.waitForReport((x) => x.path === `/backups/${id}/restore`, 600_000);
      if (restored.body.successful !== true) throw new Error(`restore failed: ${JSON.stringify(restored.body)}`);
      runs.restore.push(restored.at - t0);
      runs.restoreCpu.push(cpuMsOf(pid) - cpu0);

      // Wings' restore with truncate: empty the directory, then extract (the same archive).
      const t = timeShell(`find ${q(serverDir)} -mindepth 1 -delete && tar -xzf ${q(join(daemon.backups, `${id}.tar.gz`))} -C ${q(serverDir)}`, work);
      runs.tar.push(t.ms);
      runs.tarCpu.push(t.cpuMs);
      await call('DELETE', `/api/servers/${SERVER}/backup/${id}`);
      fs.rmSync(wingsFile, { force: true });
    }
    const m = (v: number[]) => median(v);
    const s = (ms: number) => (ms / 1000).toFixed(2);
    lines.push(
      `| ${shape.padEnd(6)} | backup ${s(m(runs.backup))} s (CPU ${s(m(runs.backupCpu))} s) | tar \\| gzip -1 ${s(m(runs.wings))} s (CPU ${s(m(runs.wingsCpu))} s) | ${(m(runs.wings) / m(runs.backup)).toFixed(2)}× |`,
      `| ${shape.padEnd(6)} | restore ${s(m(runs.restore))} s (CPU ${s(m(runs.restoreCpu))} s) | empty + tar -xzf ${s(m(runs.tar))} s (CPU ${s(m(runs.tarCpu))} s) | ${(m(runs.tar) / m(runs.restore)).toFixed(2)}× |`,
    );
    lines.push(`|        | rounds (s): backup ${runs.backup.map(s).join(' / ')}; gzip ${runs.wings.map(s).join(' / ')}; restore ${runs.restore.map(s).join(' / ')}; tar ${runs.tar.map(s).join(' / ')} | | |`);
  }
  const load1 = loadavg();
  console.log(`\n## Daemon end to end (${tree0()}; median of ${rounds} interleaved rounds; load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; daemon peak RSS ${peakRssMiB(pid).toFixed(0)} MiB)\n`);
  console.log('| tree   | backwing daemon | what Wings runs | ratio (>1 = faster) |');
  console.log('|--------|-----------------|-----------------|---------------------|');
  for (const l of lines) console.log(l);
} finally {
  await daemon.stop();
  await panel.close();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
}

function tree0(): string {
  return `daemon data and backups in ${root} (${fsType(base)})`;
}
