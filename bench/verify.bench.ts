/**
 * What verification adds to a local backup (issue 17). Run by `npm run bench -- --verify`, or
 * directly: `node --import tsx bench/verify.bench.ts [--shape small] [--shape mixed] [--dir PATH] [--rounds 3]`.
 *
 * Per round, in one process and with the daemon's own calls: `createArchiveFile` of the tree to
 * `<dir>/work/verify.tar.gz` (what a local backup writes: temp file, fsync, rename), then
 * `checkLocalArchive` of that file (what the daemon runs before it reports: reopen, hash, inflate
 * every member, walk the tar stream to the end). The archive is read back right after it was
 * written, as in a backup, so it mostly comes from the page cache. Median of the rounds.
 */
import * as fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createArchiveFile } from '../src/archive/index.ts';
import { checkLocalArchive } from '../src/daemon/services/verify.service.ts';
import { ensureTree } from './generate-tree.ts';
import { fsType, median, subBenchArgs } from './measure.ts';

const { shapes, base, rounds } = subBenchArgs(process.argv.slice(2));
const MiB = 1024 * 1024;
const s2 = (ms: number) => (ms / 1000).toFixed(2);
/** This process's CPU time, every thread (the checksum worker and the inflate threadpool too). */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const work = join(base, 'work');
fs.mkdirSync(work, { recursive: true });
const load0 = loadavg();
const lines: string[] = [];
for (const shape of shapes) {
  const tree = ensureTree(base, shape);
  const file = join(work, 'verify.tar.gz');
  const create: number[] = [];
  const verify: number[] = [];
  const createCpu: number[] = [];
  const verifyCpu: number[] = [];
  let size = 0;
  for (let r = 0; r < rounds; r++) {
    fs.rmSync(file, { force: true });
    let t0 = performance.now();
    let c0 = cpuMs();
    const made = await createArchiveFile(tree.dir, file, { level: 'best_speed' });
    create.push(performance.now() - t0);
    createCpu.push(cpuMs() - c0);
    size = made.size;
    t0 = performance.now();
    c0 = cpuMs();
    const check = await checkLocalArchive(file, { size: made.size, checksumType: made.checksumType, checksum: made.checksum });
    verify.push(performance.now() - t0);
    verifyCpu.push(cpuMs() - c0);
    if (!check.good) throw new Error(`verification failed on a fresh archive: ${check.reason}`);
  }
  fs.rmSync(file, { force: true });
  const c = median(create);
  const v = median(verify);
  const cc = median(createCpu);
  const vc = median(verifyCpu);
  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
  lines.push(`| ${`${shape}: ${tree.files} files, ${(tree.bytes / MiB).toFixed(0)} MiB`.padEnd(34)} | ${s2(c).padStart(6)} s | ${s2(v).padStart(6)} s | ${pct(v, c).padStart(7)} ${v / c <= 0.15 ? 'ok' : 'MISSED'} | ${s2(cc)} s / ${s2(vc)} s = ${pct(vc, cc)} | ${(size / MiB).toFixed(1)} MiB; rounds create ${create.map(s2).join(' / ')}, verify ${verify.map(s2).join(' / ')}`);
}
const load1 = loadavg();
console.log(`\nverification bench: ${availableParallelism()} cores; trees and archive in ${base} (${fsType(base)}); median of ${rounds} rounds; load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
console.log(`| ${'tree'.padEnd(34)} | backup   | verify   | wall added (≤ 15 %) | CPU backup / verify | notes`);
console.log(`|${'-'.repeat(36)}|----------|----------|---------------------|---------------------|------`);
for (const l of lines) console.log(l);
