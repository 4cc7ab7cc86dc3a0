/**
 * `npm run bench [-- --size 256M] [--dir /path] [--keep]`
 * Builds (or reuses) a deterministic synthetic server tree and, on the same tree and archive,
 * times our create vs `tar | pigz -1 -p <cores>` vs `tar | gzip -1`, our extract vs `tar -xzf`,
 * and the peak RSS of ours at two tree sizes. Prints a table with the ratios to the targets.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree } from './generate-tree.ts';

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
const size = parseSize(opt('--size', '1G'));
const base = opt('--dir', join(tmpdir(), 'backwing-bench'));
const keep = args.includes('--keep');
const cores = availableParallelism();
const MiB = 1024 * 1024;
const here = fileURLToPath(new URL('.', import.meta.url));

function ensureTree(bytes: number): { dir: string; bytes: number; files: number } {
  const dir = join(base, `tree-${bytes}`);
  const marker = join(dir, '.bench-complete');
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8')) as { dir: string; bytes: number; files: number };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const stats = generateTree(dir, bytes);
  const info = { dir, bytes: stats.bytes, files: stats.files };
  fs.writeFileSync(marker, JSON.stringify(info));
  console.error(`generated ${stats.files} files, ${(stats.bytes / MiB).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return info;
}

interface Timed {
  ms: number;
  cpuMs: number;
}

/** Wall time from here, CPU time (user+sys of the whole pipeline) from /usr/bin/time. */
function timeShell(cmd: string): Timed {
  const cpuFile = join(work, 'cpu.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, 'sh', '-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`failed: ${cmd}`);
  const [u, s] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (u! + s!) * 1000 };
}

function ours(op: 'create' | 'extract', a: string, b: string): Timed & { maxRssKiB: number; size?: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'archive-child.ts'), op, a, b], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as Timed & { maxRssKiB: number; size?: number };
}

/**
 * Ours and a tool started at the same instant, so both see exactly the same machine load. On a
 * shared machine this is the fairest ratio; each side's wall time is measured on its own.
 */
async function paired(op: 'create' | 'extract', a: string, b: string, cmd: string): Promise<{ ours: number; tool: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'archive-child.ts'), op, a, b], { env: { ...process.env, BW_WAIT_GO: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const t0 = performance.now();
  const tool = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  child.stdin.write('go\n');
  const toolDone = new Promise<number>((resolve) => tool.on('exit', () => resolve(performance.now() - t0)));
  const [toolMs] = await Promise.all([toolDone, exited]);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { ms: number };
  return { ours: result.ms, tool: toolMs };
}

const work = join(base, 'work');
const rmrf = (p: string) => fs.rmSync(p, { recursive: true, force: true });
rmrf(work);
fs.mkdirSync(work, { recursive: true });

const main = ensureTree(size);
const small = ensureTree(Math.max(32 * MiB, Math.round(size / 4)));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const load0 = loadavg()[0]!;
// Warm the page cache so every contender reads the tree from memory.
timeShell(`tar -cf - -C ${q(main.dir)} . > /dev/null`);

const oursFile = join(work, 'ours.tar.gz');
const pigzFile = join(work, 'pigz.tar.gz');
const gzipFile = join(work, 'gzip.tar.gz');
const exclude = `--exclude=./.bench-complete`;

const rounds = Math.max(1, Number(opt('--rounds', '3')));
type Run = Timed & { maxRssKiB?: number };
const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.ms < a.ms ? b : a));
const all = { createOurs: [] as Run[], createPigz: [] as Run[], createGzip: [] as Run[], extractOurs: [] as Run[], extractTar: [] as Run[] };
const xOurs = join(work, 'x-ours');
const xTar = join(work, 'x-tar');
// Contenders alternate inside each round and the best round counts: on a shared machine the
// minimum is the least disturbed measurement of each.
for (let r = 0; r < rounds; r++) {
  all.createOurs.push(ours('create', main.dir, oursFile));
  all.createPigz.push(timeShell(`tar ${exclude} -cf - -C ${q(main.dir)} . | pigz -1 -p ${cores} > ${q(pigzFile)}`));
  all.createGzip.push(timeShell(`tar ${exclude} -cf - -C ${q(main.dir)} . | gzip -1 > ${q(gzipFile)}`));
  all.extractOurs.push(ours('extract', oursFile, xOurs));
  rmrf(xOurs);
  fs.mkdirSync(xTar);
  all.extractTar.push(timeShell(`tar -xzf ${q(oursFile)} -C ${q(xTar)}`));
  rmrf(xTar);
}
const createOurs = { ...best(all.createOurs), maxRssKiB: Math.max(...all.createOurs.map((x) => x.maxRssKiB ?? 0)) };
const createPigz = best(all.createPigz);
const createGzip = best(all.createGzip);
const extractOurs = { ...best(all.extractOurs), maxRssKiB: Math.max(...all.extractOurs.map((x) => x.maxRssKiB ?? 0)) };
const extractTar = best(all.extractTar);
const sizeOurs = fs.statSync(oursFile).size;
const sizePigz = fs.statSync(pigzFile).size;
const sizeGzip = fs.statSync(gzipFile).size;

// Paired runs: ours and the tool at the same time (same load), for the create and extract ratios.
const pairs = { pigz: [] as number[], gzip: [] as number[], tar: [] as number[] };
for (let r = 0; r < rounds; r++) {
  const p1 = await paired('create', main.dir, join(work, 'paired-ours.tar.gz'), `tar ${exclude} -cf - -C ${q(main.dir)} . | pigz -1 -p ${cores} > ${q(join(work, 'paired-pigz.tar.gz'))}`);
  pairs.pigz.push(p1.tool / p1.ours);
  const p2 = await paired('create', main.dir, join(work, 'paired-ours.tar.gz'), `tar ${exclude} -cf - -C ${q(main.dir)} . | gzip -1 > ${q(join(work, 'paired-gzip.tar.gz'))}`);
  pairs.gzip.push(p2.tool / p2.ours);
  fs.mkdirSync(xTar);
  const p3 = await paired('extract', oursFile, xOurs, `tar -xzf ${q(oursFile)} -C ${q(xTar)}`);
  pairs.tar.push(p3.tool / p3.ours);
  rmrf(xOurs);
  rmrf(xTar);
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;

// RSS at a quarter of the size, to show it does not grow with the tree
const smallFile = join(work, 'small.tar.gz');
let createSmall = { maxRssKiB: 0 };
let extractSmall = { maxRssKiB: 0 };
for (let r = 0; r < rounds; r++) {
  // as many rounds as the main tree, so both peaks are maxima over the same number of runs
  const c = ours('create', small.dir, smallFile);
  const x = ours('extract', smallFile, join(work, 'x-small'));
  rmrf(join(work, 'x-small'));
  if (c.maxRssKiB > createSmall.maxRssKiB) createSmall = c;
  if (x.maxRssKiB > extractSmall.maxRssKiB) extractSmall = x;
}
const load1 = loadavg()[0]!;

const thr = (ms: number) => main.bytes / MiB / (ms / 1000);
const row = (name: string, t: Timed, extra = '') => `| ${name.padEnd(34)} | ${(t.ms / 1000).toFixed(2).padStart(7)} s | ${thr(t.ms).toFixed(1).padStart(7)} MiB/s | ${(t.cpuMs / 1000).toFixed(2).padStart(6)} s | ${extra}`;
const ratio = (a: number, b: number) => (b / a).toFixed(2);
const ok = (cond: boolean) => (cond ? 'ok' : 'MISSED');

const cOursVsPigz = createPigz.ms / createOurs.ms;
const cOursVsGzip = createGzip.ms / createOurs.ms;
const sizeVsPigz = sizeOurs / sizePigz;
const xRatio = extractTar.ms / extractOurs.ms;
const maxRss = Math.max(createOurs.maxRssKiB, extractOurs.maxRssKiB) / 1024;

console.log(`\nbackwing archive bench — tree ${(main.bytes / MiB).toFixed(0)} MiB in ${main.files} files; ${cores} cores; best of ${rounds} rounds; load avg ${load0.toFixed(2)} → ${load1.toFixed(2)}\n`);
console.log(`| ${'operation'.padEnd(34)} | ${'wall'.padStart(9)} | ${'throughput'.padStart(13)} | ${'CPU'.padStart(8)} | notes`);
console.log(`|${'-'.repeat(36)}|${'-'.repeat(11)}|${'-'.repeat(15)}|${'-'.repeat(10)}|------`);
console.log(row('create: backwing (best_speed)', createOurs, `${(sizeOurs / MiB).toFixed(1)} MiB out, RSS ${(createOurs.maxRssKiB / 1024).toFixed(0)} MiB`));
console.log(row(`create: tar | pigz -1 -p ${cores}`, createPigz, `${(sizePigz / MiB).toFixed(1)} MiB out`));
console.log(row('create: tar | gzip -1', createGzip, `${(sizeGzip / MiB).toFixed(1)} MiB out`));
console.log(row('extract: backwing', extractOurs, `RSS ${(extractOurs.maxRssKiB / 1024).toFixed(0)} MiB`));
console.log(row('extract: tar -xzf', extractTar));
console.log('');
console.log(`| target                                   | measured | status`);
console.log(`|------------------------------------------|----------|-------`);
console.log(`| create ≥ 1.0× pigz throughput            | ${cOursVsPigz.toFixed(2).padStart(6)}×  | ${ok(cOursVsPigz >= 1)}`);
console.log(`| create ≥ 1.8× gzip throughput            | ${cOursVsGzip.toFixed(2).padStart(6)}×  | ${ok(cOursVsGzip >= 1.8)}`);
console.log(`| output ≤ 3% larger than pigz             | ${((sizeVsPigz - 1) * 100).toFixed(2).padStart(6)}%  | ${ok(sizeVsPigz <= 1.03)}`);
console.log(`| extract ≥ 1.3× tar -xzf                  | ${xRatio.toFixed(2).padStart(6)}×  | ${ok(xRatio >= 1.3)}`);
console.log(`| same targets, paired runs (median of ${rounds})   |          |`);
console.log(`|   create vs pigz                         | ${median(pairs.pigz).toFixed(2).padStart(6)}×  | ${ok(median(pairs.pigz) >= 1)}`);
console.log(`|   create vs gzip                         | ${median(pairs.gzip).toFixed(2).padStart(6)}×  | ${ok(median(pairs.gzip) >= 1.8)}`);
console.log(`|   extract vs tar -xzf                    | ${median(pairs.tar).toFixed(2).padStart(6)}×  | ${ok(median(pairs.tar) >= 1.3)}`);
console.log(`| peak RSS < 200 MiB                       | ${maxRss.toFixed(0).padStart(6)} MiB | ${ok(maxRss < 200)}`);
console.log(`| RSS at ${(small.bytes / MiB).toFixed(0)} MiB tree: create ${(createSmall.maxRssKiB / 1024).toFixed(0)} MiB, extract ${(extractSmall.maxRssKiB / 1024).toFixed(0)} MiB (vs ${(createOurs.maxRssKiB / 1024).toFixed(0)} / ${(extractOurs.maxRssKiB / 1024).toFixed(0)} MiB at ${(main.bytes / MiB).toFixed(0)} MiB)`);
console.log(`| CPU seconds, ours vs tools: create ${ratio(createOurs.cpuMs, createPigz.cpuMs)}× of pigz's, extract ${ratio(extractOurs.cpuMs, extractTar.cpuMs)}× of tar -xzf's (>1 = ours uses less)`);
const walls = (runs: Run[]) => runs.map((x) => (x.ms / 1000).toFixed(2)).join(' / ');
console.log(`| all rounds (s): ours create ${walls(all.createOurs)}; pigz ${walls(all.createPigz)}; gzip ${walls(all.createGzip)}; ours extract ${walls(all.extractOurs)}; tar -xzf ${walls(all.extractTar)}`);
if (!keep) rmrf(work);
