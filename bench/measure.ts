/** Timing helpers shared by the archive and daemon benchmarks. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Shape } from './generate-tree.ts';

export interface Timed {
  ms: number;
  /** user + sys of the whole pipeline */
  cpuMs: number;
  /** the largest process of the pipeline */
  maxRssKiB: number;
}

export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Wall time from here; CPU time and peak RSS from /usr/bin/time around `sh -c cmd`. */
export function timeShell(cmd: string, work: string): Timed {
  const out = join(work, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', out, 'sh', '-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}`);
  const [u, s, m] = fs.readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (u! + s!) * 1000, maxRssKiB: m! };
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** 'tmpfs', 'ext2/ext3', … for the file system holding `dir`. */
export function fsType(dir: string): string {
  const r = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** The `--shape S` (repeatable, default small and mixed), `--dir`, `--rounds` of the sub-benchmarks. */
export function subBenchArgs(argv: string[]): { shapes: Shape[]; base: string; rounds: number } {
  const opt = (name: string, def: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
  };
  const shapes = argv.flatMap((a, i) => (a === '--shape' && argv[i + 1] ? [argv[i + 1] as Shape] : []));
  if (shapes.length === 0) shapes.push('small', 'mixed');
  return { shapes, base: opt('--dir', '/dev/shm/backwing-bench'), rounds: Math.max(3, Number(opt('--rounds', '3'))) };
}
