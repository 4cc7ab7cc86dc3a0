/**
 * restic beside the tar.gz path (issue 16), on one generated game-server tree (generateTree: ~60%
 * region files, 15% jars, 15% logs, 10% small configs; seeded, so every run builds the same tree):
 *
 *   node --import tsx bench/restic.bench.ts [--size 1G|512M|…] [--dir /dev/shm/backwing-restic-bench] [--days 10] [--scatter]
 *
 * 1. first backup: `restic backup .` vs `backwing archive create --level best_speed` (time, size);
 * 2. a "day" changes ~2% of the tree (region files rewritten in part, a few small files added),
 *    then a second backup: its time and bytes added as a share of the first;
 * 3. restore: `restic restore latest --target` vs `backwing archive extract`;
 * 4. ten such days: total repository size vs ten tar.gz archives.
 * Wall times are single runs (each step depends on the one before): on a loaded machine, noisy.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Prng, generateTree } from './generate-tree.ts';
import { fsType, q, timeShell } from './measure.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const units: Record<string, number> = { K: 1 << 10, M: 1 << 20, G: 1 << 30 };
const sizeArg = opt('size', '1G');
const size = Number.parseFloat(sizeArg) * (units[sizeArg.slice(-1).toUpperCase()] ?? 1);
const base = opt('dir', '/dev/shm/backwing-restic-bench');
const days = Number(opt('days', '10'));
const REPO_ROOT = new URL('..', import.meta.url).pathname;
const CLI = `${q(process.execPath)} ${q(join(REPO_ROOT, 'bin/backwing.js'))}`;
const MiB = 1 << 20;

fs.rmSync(base, { recursive: true, force: true });
const tree = join(base, 'tree');
const repo = join(base, 'repo');
const work = join(base, 'work');
fs.mkdirSync(tree, { recursive: true });
fs.mkdirSync(work, { recursive: true });
const stats = generateTree(tree, size);
const env = { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(base, 'cache') };
execFileSync('restic', ['init', '-q'], { env });
const restic = (rest: string): string => `RESTIC_REPOSITORY=${q(repo)} RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=${q(join(base, 'cache'))} restic ${rest}`;
const du = (p: string): number => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);

const rng = new Prng(7);
let day = 0;
/**
 * One day of play: region files making up ~2% of the tree are rewritten the way a game saves
 * chunks — a few contiguous runs of 4 KiB sectors (32–256 KiB each, about a quarter of the file)
 * — and 20 small config files are added. `--scatter` instead rewrites every other sector of the
 * files it touches until 2% of the bytes changed: the worst case for restic's content-defined
 * chunking (every chunk of a touched file changes).
 */
const scatter = args.includes('--scatter');
function changeTwoPercent(): { touched: number; changed: number } {
  day++;
  const regions: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.mca')) regions.push(p);
    }
  };
  walk(tree);
  regions.sort();
  let changed = 0;
  let touched = 0;
  const sector = Buffer.alloc(4096);
  while ((scatter ? changed : touched) < size * 0.02) {
    const file = regions[rng.int(0, regions.length - 1)]!;
    const fd = fs.openSync(file, 'r+');
    const len = fs.fstatSync(fd).size;
    touched += len;
    if (scatter) {
      for (let off = 0; off < len; off += 8192) {
        rng.fill(sector);
        fs.writeSync(fd, sector, 0, Math.min(4096, len - off), off);
        changed += 4096;
      }
    } else {
      let budget = len / 4;
      while (budget > 0) {
        const run = rng.int(8, 64) * 4096;
        const start = Math.floor(rng.int(0, Math.max(0, len - run)) / 4096) * 4096;
        for (let off = start; off < Math.min(len, start + run); off += 4096) {
          rng.fill(sector);
          fs.writeSync(fd, sector, 0, Math.min(4096, len - off), off);
          changed += 4096;
        }
        budget -= run;
      }
    }
    fs.closeSync(fd);
  }
  fs.mkdirSync(join(tree, 'plugins', `day-${day}`), { recursive: true });
  for (let i = 0; i < 20; i++) {
    const b = Buffer.alloc(2048);
    rng.fill(b);
    fs.writeFileSync(join(tree, 'plugins', `day-${day}`, `cfg-${i}.yml`), b.toString('base64'));
    changed += 2048;
  }
  return { touched, changed };
}

const tar = (n: number) => join(work, `day-${n}.tar.gz`);
const firstTar = timeShell(`${CLI} archive create ${q(tree)} -o ${q(tar(0))} --level best_speed --json > /dev/null`, work);
const firstRestic = timeShell(`cd ${q(tree)} && ${restic('backup -q --host bench .')}`, work);
const repoAfterFirst = du(repo);
const changed = changeTwoPercent();
const secondTar = timeShell(`${CLI} archive create ${q(tree)} -o ${q(tar(1))} --level best_speed --json > /dev/null`, work);
const secondRestic = timeShell(`cd ${q(tree)} && ${restic('backup -q --host bench .')}`, work);
const added = du(repo) - repoAfterFirst;
const xRestic = timeShell(restic(`restore latest --target ${q(join(work, 'x-restic'))}`), work);
const xTar = timeShell(`${CLI} archive extract ${q(tar(1))} -C ${q(join(work, 'x-tar'))} --json > /dev/null`, work);
fs.rmSync(join(work, 'x-restic'), { recursive: true, force: true });
fs.rmSync(join(work, 'x-tar'), { recursive: true, force: true });
for (let d = 2; d < days; d++) {
  changeTwoPercent();
  execFileSync('sh', ['-c', `${CLI} archive create ${q(tree)} -o ${q(tar(d))} --level best_speed --json > /dev/null`]);
  execFileSync('sh', ['-c', `cd ${q(tree)} && ${restic('backup -q --host bench .')}`]);
}
let tarTotal = 0;
for (let d = 0; d < days; d++) tarTotal += fs.statSync(tar(d)).size;
const repoTotal = du(repo);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const m = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
console.log(`tree: ${stats.files} files, ${m(stats.bytes)} (${sizeArg} requested), on ${fsType(base)}; ${execFileSync('restic', ['version'], { encoding: 'utf8' }).trim()}; load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`| step | tar.gz (backwing archive) | restic |`);
console.log(`|---|---|---|`);
console.log(`| first backup | ${s(firstTar.ms)}, ${m(fs.statSync(tar(0)).size)} | ${s(firstRestic.ms)}, repository ${m(repoAfterFirst)} |`);
console.log(`| second backup after ~2% changed (${m(changed.touched)} of region files touched, ${m(changed.changed)} rewritten${scatter ? ', scattered' : ''}) | ${s(secondTar.ms)}, ${m(fs.statSync(tar(1)).size)} | ${s(secondRestic.ms)} (${pct(secondRestic.ms, firstRestic.ms)} of the first), added ${m(added)} (${pct(added, repoAfterFirst)} of the first) |`);
console.log(`| full restore | ${s(xTar.ms)} | ${s(xRestic.ms)} |`);
console.log(`| ${days} daily backups, total storage | ${m(tarTotal)} | ${m(repoTotal)} (${pct(repoTotal, tarTotal)} of tar.gz) |`);
if (!args.includes('--keep')) fs.rmSync(base, { recursive: true, force: true });
