/**
 * `npm run bench [-- --shape small|mixed|large|all] [--rounds 3] [--disk] [--dir PATH] [--large-size 512M] [--daemon] [--verify] [--keep]`
 *
 * Per tree shape (see generate-tree.ts), on the same tree and the same archive: `backwing archive
 * create --level best_speed` against `tar -cf - . | pigz -1 -p <cores>` and `tar -cf - . | gzip -1`,
 * and `backwing archive extract` against `tar -xzf`. Ours runs through the CLI, start-up included.
 * The contenders alternate inside each round and the median of the rounds counts, so a load that
 * comes and goes (a shared machine) touches all of them alike; the CPU seconds (user + sys of the
 * whole pipeline) are printed too, since they hardly move with the load. Trees and extraction
 * targets live in tmpfs (/dev/shm) unless --disk. --daemon adds the end-to-end daemon benchmark
 * (daemon.bench.ts) for the small and mixed trees; --verify what reading a backup back costs
 * (verify.bench.ts) for the same trees.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, type Shape, type TreeInfo } from './generate-tree.ts';
import { median, fsType, q, timeShell, type Timed } from './measure.ts';

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * mult);
}

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const SHAPES: Shape[] = ['small', 'mixed', 'large'];
const shapeArg = opt('--shape', 'mixed');
if (shapeArg !== 'all' && !SHAPES.includes(shapeArg as Shape)) throw new Error(`--shape must be small, mixed, large or all (got ${shapeArg})`);
const shapes: Shape[] = shapeArg === 'all' ? SHAPES : [shapeArg as Shape];
const disk = args.includes('--disk');
const base = opt('--dir', disk ? join(tmpdir(), 'backwing-bench') : fs.existsSync('/dev/shm') ? '/dev/shm/backwing-bench' : join(tmpdir(), 'backwing-bench'));
const largeSize = parseSize(opt('--large-size', '512M'));
const rounds = Math.max(3, Number(opt('--rounds', '3')));
const keep = args.includes('--keep');
const cores = availableParallelism();
const MiB = 1024 * 1024;
const REPO = fileURLToPath(new URL('../', import.meta.url));
const CLI = `${q(process.execPath)} ${q(join(REPO, 'bin/backwing.js'))}`;

interface ShapeResult {
  shape: Shape;
  tree: TreeInfo;
  create: { ours: Timed; pigz: Timed; gzip: Timed };
  extract: { ours: Timed; tar: Timed };
  size: { ours: number; pigz: number; gzip: number };
  rssKiB: { create: number; extract: number };
  rounds: Record<string, number[]>;
}

function benchShape(shape: Shape, work: string): ShapeResult {
  const tree = ensureTree(base, shape, largeSize);
  const rmrf = (p: string) => fs.rmSync(p, { recursive: true, force: true });
  // Warm the page cache so every contender reads the tree from memory.
  timeShell(`tar -cf - -C ${q(tree.dir)} . > /dev/null`, work);
  const files = { ours: join(work, 'ours.tar.gz'), pigz: join(work, 'pigz.tar.gz'), gzip: join(work, 'gzip.tar.gz') };
  const xOurs = join(work, 'x-ours');
  const xTar = join(work, 'x-tar');
  const runs: Record<'cOurs' | 'cPigz' | 'cGzip' | 'xOurs' | 'xTar', Timed[]> = { cOurs: [], cPigz: [], cGzip: [], xOurs: [], xTar: [] };
  for (let r = 0; r < rounds; r++) {
    rmrf(files.ours);
    runs.cOurs.push(timeShell(`${CLI} archive create ${q(tree.dir)} -o ${q(files.ours)} --level best_speed --json > /dev/null`, work));
    runs.cPigz.push(timeShell(`tar -cf - -C ${q(tree.dir)} . | pigz -1 -p ${cores} > ${q(files.pigz)}`, work));
    runs.cGzip.push(timeShell(`tar -cf - -C ${q(tree.dir)} . | gzip -1 > ${q(files.gzip)}`, work));
    rmrf(xOurs);
    runs.xOurs.push(timeShell(`${CLI} archive extract ${q(files.ours)} -C ${q(xOurs)} --json > /dev/null`, work));
    rmrf(xOurs);
    rmrf(xTar);
    fs.mkdirSync(xTar);
    // Both extract the same archive (ours), so only the extractor differs.
    runs.xTar.push(timeShell(`tar -xzf ${q(files.ours)} -C ${q(xTar)}`, work));
    rmrf(xTar);
  }
  const med = (v: Timed[]): Timed => ({ ms: median(v.map((x) => x.ms)), cpuMs: median(v.map((x) => x.cpuMs)), maxRssKiB: Math.max(...v.map((x) => x.maxRssKiB)) });
  const result: ShapeResult = {
    shape,
    tree,
    create: { ours: med(runs.cOurs), pigz: med(runs.cPigz), gzip: med(runs.cGzip) },
    extract: { ours: med(runs.xOurs), tar: med(runs.xTar) },
    size: { ours: fs.statSync(files.ours).size, pigz: fs.statSync(files.pigz).size, gzip: fs.statSync(files.gzip).size },
    rssKiB: { create: Math.max(...runs.cOurs.map((x) => x.maxRssKiB)), extract: Math.max(...runs.xOurs.map((x) => x.maxRssKiB)) },
    rounds: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((x) => x.ms)])),
  };
  for (const f of Object.values(files)) rmrf(f);
  return result;
}

const s2 = (ms: number) => (ms / 1000).toFixed(2);
const ratio = (tool: number, ours: number) => tool / ours;
const ok = (cond: boolean) => (cond ? 'ok' : 'MISSED');

function printShape(r: ShapeResult): void {
  const row = (name: string, t: Timed, extra = '') => `| ${name.padEnd(36)} | ${s2(t.ms).padStart(7)} s | ${s2(t.cpuMs).padStart(7)} s | ${extra}`;
  console.log(`\n### ${r.shape}: ${r.tree.files} files, ${(r.tree.bytes / MiB).toFixed(0)} MiB\n`);
  console.log(`| ${'operation (median wall / median CPU)'.padEnd(36)} | ${'wall'.padStart(9)} | ${'CPU'.padStart(9)} | notes`);
  console.log(`|${'-'.repeat(38)}|${'-'.repeat(11)}|${'-'.repeat(11)}|------`);
  console.log(row('backwing archive create (best_speed)', r.create.ours, `${(r.size.ours / MiB).toFixed(1)} MiB out, peak RSS ${(r.rssKiB.create / 1024).toFixed(0)} MiB`));
  console.log(row(`tar | pigz -1 -p ${cores}`, r.create.pigz, `${(r.size.pigz / MiB).toFixed(1)} MiB out`));
  console.log(row('tar | gzip -1', r.create.gzip, `${(r.size.gzip / MiB).toFixed(1)} MiB out`));
  console.log(row('backwing archive extract', r.extract.ours, `peak RSS ${(r.rssKiB.extract / 1024).toFixed(0)} MiB`));
  console.log(row('tar -xzf (same archive)', r.extract.tar));
  const walls = (v: number[]) => v.map((x) => s2(x)).join(' / ');
  console.log(`\nall rounds (wall s): create ours ${walls(r.rounds.cOurs!)}; pigz ${walls(r.rounds.cPigz!)}; gzip ${walls(r.rounds.cGzip!)}; extract ours ${walls(r.rounds.xOurs!)}; tar -xzf ${walls(r.rounds.xTar!)}`);
}

function printSummary(results: ShapeResult[]): void {
  const head = `| ${'target'.padEnd(34)} |${results.map((r) => ` ${r.shape.padStart(15)} |`).join('')}`;
  console.log(`\n## Ratios (>1 = backwing faster), every shape from this run\n`);
  console.log(head);
  console.log(`|${'-'.repeat(36)}|${results.map(() => `${'-'.repeat(17)}|`).join('')}`);
  const line = (label: string, f: (r: ShapeResult) => string) => console.log(`| ${label.padEnd(34)} |${results.map((r) => ` ${f(r).padStart(15)} |`).join('')}`);
  const cell = (v: number, min: number, suffix = '×') => `${v.toFixed(2)}${suffix} ${ok(v >= min)}`;
  line(`create vs pigz -1 -p ${cores} (≥ 1.0)`, (r) => cell(ratio(r.create.pigz.ms, r.create.ours.ms), 1.0));
  line('create vs tar | gzip -1 (≥ 1.8)', (r) => cell(ratio(r.create.gzip.ms, r.create.ours.ms), 1.8));
  line('extract vs tar -xzf (≥ 1.3)', (r) => cell(ratio(r.extract.tar.ms, r.extract.ours.ms), 1.3));
  line('output vs pigz (≤ 1.03)', (r) => `${(r.size.ours / r.size.pigz).toFixed(3)} ${ok(r.size.ours / r.size.pigz <= 1.03)}`);
  line('peak RSS create/extract (≤ 200)', (r) => `${(r.rssKiB.create / 1024).toFixed(0)}/${(r.rssKiB.extract / 1024).toFixed(0)} MiB ${ok(Math.max(r.rssKiB.create, r.rssKiB.extract) <= 200 * 1024)}`);
  line('CPU s create: ours / pigz', (r) => `${s2(r.create.ours.cpuMs)} / ${s2(r.create.pigz.cpuMs)}`);
  line('CPU s extract: ours / tar', (r) => `${s2(r.extract.ours.cpuMs)} / ${s2(r.extract.tar.cpuMs)}`);
  const worst = [...results].sort((a, b) => Math.min(ratio(a.create.pigz.ms, a.create.ours.ms), ratio(a.extract.tar.ms, a.extract.ours.ms) / 1.3) - Math.min(ratio(b.create.pigz.ms, b.create.ours.ms), ratio(b.extract.tar.ms, b.extract.ours.ms) / 1.3))[0]!;
  if (results.length > 1) console.log(`\nworst shape (lowest of create-vs-pigz and extract-vs-tar/1.3): ${worst.shape}`);
}

const work = join(base, 'work');
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const load0 = loadavg();
const results = shapes.map((s) => benchShape(s, work));
const load1 = loadavg();
console.log(`\nbackwing archive bench: ${cores} cores; trees and targets in ${base} (${fsType(base)}); median of ${rounds} interleaved rounds; load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`command: npm run bench -- ${args.join(' ') || '(defaults: --shape mixed)'}; ours = \`backwing archive create|extract\` through bin/backwing.js, start-up included`);
for (const r of results) printShape(r);
printSummary(results);

if (args.includes('--daemon')) {
  const daemonShapes = shapes.filter((s) => s !== 'large');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench/daemon.bench.ts'), '--dir', base, '--rounds', String(rounds), ...daemonShapes.flatMap((s) => ['--shape', s])], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
if (args.includes('--verify')) {
  const verifyShapes = shapes.filter((s) => s !== 'large');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench/verify.bench.ts'), '--dir', base, '--rounds', String(rounds), ...verifyShapes.flatMap((s) => ['--shape', s])], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
if (!keep) fs.rmSync(work, { recursive: true, force: true });
