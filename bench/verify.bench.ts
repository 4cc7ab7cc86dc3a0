/**
 * What verification adds to a local backup (issue 17). Run by `npm run bench -- --verify`, or
 * directly: `node --import tsx bench/verify.bench.ts [--shape small] [--shape mixed] [--dir PATH] [--rounds 3]`.
 *
 * Per round, in one process, interleaved:
 * - **backup without verification**: `createArchiveFile` of the tree to `<dir>/work/verify.tar.gz`
 *   (temp file, fsync, rename; the output hashed as it is written) — what a backup costs if nothing
 *   is read back;
 * - **backup with verification**: `createVerifiedArchiveFile`, what the daemon runs for a local
 *   backup — the same archive, each gzip member read back from the file behind the writer and
 *   checked (CRC32 against the writer's, SHA-256, inflate, tar walk), the final look at the stored
 *   file. The difference is what verification adds (target ≤ 15 %). As in the daemon, the read-back
 *   thread is started by the first verified backup of the process and kept for the next ones; the
 *   first round's CPU is in the notes;
 * - **on-demand read-back**: `checkLocalArchive` of the finished file (what `backups verify` and the
 *   schedule run: reopen, hash, inflate every member, walk the tar stream to the end), for reference.
 * The code runs compiled, as the daemon does in production: dist/ is rebuilt first
 * (`VERIFY_FROM_SOURCE=1` runs the sources through tsx instead; the read-back thread then loads
 * tsx itself, ~0.35 s of CPU per backup). Median of the rounds. CPU is the whole process (every
 * thread: the read-back thread, the checksum worker and the zlib threadpool too).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureTree } from './generate-tree.ts';
import { fsType, median, subBenchArgs } from './measure.ts';

type Archive = typeof import('../src/archive/index.ts');
type Verify = typeof import('../src/daemon/services/verify.service.ts');

const fromSource = process.env.VERIFY_FROM_SOURCE === '1';
if (!fromSource && spawnSync('npm', ['run', '--silent', 'build:server'], { stdio: 'inherit', cwd: join(import.meta.dirname, '..') }).status !== 0) {
  throw new Error('npm run build:server failed');
}
const root = fromSource ? '../src' : '../dist';
const ext = fromSource ? 'ts' : 'js';
const { createArchiveFile } = (await import(`${root}/archive/index.${ext}`)) as Archive;
const { checkLocalArchive, createVerifiedArchiveFile } = (await import(`${root}/daemon/services/verify.service.${ext}`)) as Verify;

const { shapes, base, rounds } = subBenchArgs(process.argv.slice(2));
const MiB = 1024 * 1024;
const s2 = (ms: number) => (ms / 1000).toFixed(2);
/** This process's CPU time, every thread. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = cpuMs();
  const value = await f();
  return { value, wall: performance.now() - t0, cpu: cpuMs() - c0 };
}

const work = join(base, 'work');
fs.mkdirSync(work, { recursive: true });
const load0 = loadavg();
const lines: string[] = [];
for (const shape of shapes) {
  const tree = ensureTree(base, shape);
  const file = join(work, 'verify.tar.gz');
  const plain = { wall: [] as number[], cpu: [] as number[] };
  const verified = { wall: [] as number[], cpu: [] as number[] };
  const after = { wall: [] as number[], cpu: [] as number[] };
  let size = 0;
  for (let r = 0; r < rounds; r++) {
    fs.rmSync(file, { force: true });
    const a = await timed(() => createArchiveFile(tree.dir, file, { level: 'best_speed' }));
    plain.wall.push(a.wall);
    plain.cpu.push(a.cpu);
    size = a.value.size;
    const c = await timed(() => checkLocalArchive(file, { size: a.value.size, checksumType: a.value.checksumType, checksum: a.value.checksum }));
    if (!c.value.good) throw new Error(`verification failed on a fresh archive: ${c.value.reason}`);
    after.wall.push(c.wall);
    after.cpu.push(c.cpu);
    fs.rmSync(file, { force: true });
    const b = await timed(() => createVerifiedArchiveFile(tree.dir, file, { level: 'best_speed' }));
    if (b.value.checksum !== a.value.checksum) throw new Error('the verified backup recorded another checksum than the plain one');
    verified.wall.push(b.wall);
    verified.cpu.push(b.cpu);
  }
  fs.rmSync(file, { force: true });
  const [pw, vw, aw] = [median(plain.wall), median(verified.wall), median(after.wall)];
  const [pc, vc, ac] = [median(plain.cpu), median(verified.cpu), median(after.cpu)];
  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
  const added = vw - pw;
  // Round by round (each verified backup right after its plain one), less moved by a slow drift of the machine's load.
  const paired = (v: number[], p: number[]) => median(v.map((x, i) => x - p[i]!));
  const [dw, dc] = [paired(verified.wall, plain.wall), paired(verified.cpu, plain.cpu)];
  const pairedNote = `; paired (median of per-round differences): wall +${s2(dw)} s = ${pct(dw, pw)}, CPU +${s2(dc)} s = ${pct(dc, pc)}`;
  // The daemon keeps the read-back thread between backups: only its first verified backup starts it.
  const firstNote = shape === shapes[0] ? `; first verified round CPU ${s2(verified.cpu[0]!)} s (starts the read-back thread, later ones reuse it)` : '';
  lines.push(
    `| ${`${shape}: ${tree.files} files, ${(tree.bytes / MiB).toFixed(0)} MiB`.padEnd(34)} | ${s2(pw).padStart(6)} s | ${s2(vw).padStart(6)} s | ${`${s2(added)} s = ${pct(added, pw)}`.padStart(16)} ${added / pw <= 0.15 ? 'ok' : 'MISSED'} | ${s2(pc)} → ${s2(vc)} s (+${pct(vc - pc, pc)}) | ${s2(aw)} s (CPU ${s2(ac)} s) | ${(size / MiB).toFixed(1)} MiB; rounds plain ${plain.wall.map(s2).join(' / ')}, verified ${verified.wall.map(s2).join(' / ')}${pairedNote}${firstNote}`,
  );
}
const load1 = loadavg();
console.log(`\nverification bench: ${availableParallelism()} cores; trees and archive in ${base} (${fsType(base)}); ${fromSource ? 'sources through tsx' : 'compiled (dist/)'}; median of ${rounds} rounds; load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
console.log(`| ${'tree'.padEnd(34)} | backup   | verified | wall added (≤ 15 %)     | CPU backup → verified  | on-demand read-back | notes`);
console.log(`|${'-'.repeat(36)}|----------|----------|-------------------------|------------------------|---------------------|------`);
for (const l of lines) console.log(l);
