/**
 * Deterministic synthetic game server (seeded PRNG): region files (compressed chunks inside, so
 * mostly incompressible, with zero-padded sectors), plugin jars (random), many small text/config/
 * json files, and logs (text). Same seed and size → same bytes.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

export class Prng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  fill(buf: Buffer, off = 0, end = buf.length): void {
    let i = off;
    for (; i + 4 <= end; i += 4) buf.writeUInt32LE(this.next(), i);
    for (; i < end; i++) buf[i] = this.next() & 0xff;
  }
}

const WORDS = 'the server player joined left chunk saved world region entity block item spawn tick lag warn info error debug plugin loaded enabled config value true false null minecraft overworld nether end position x y z uuid name level motd port query rcon'.split(' ');

function textPool(rng: Prng, bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  let t = 0;
  while (n < bytes) {
    t += rng.int(0, 3000);
    const words = Array.from({ length: rng.int(4, 14) }, () => WORDS[rng.int(0, WORDS.length - 1)]).join(' ');
    const line = `[${String(Math.floor(t / 3600000) % 24).padStart(2, '0')}:${String(Math.floor(t / 60000) % 60).padStart(2, '0')}:${String(Math.floor(t / 1000) % 60).padStart(2, '0')}] [Server thread/INFO]: ${words} ${rng.next().toString(16)}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join(''));
}

export interface TreeStats {
  files: number;
  dirs: number;
  bytes: number;
}

export type Shape = 'small' | 'mixed' | 'large';

/** Writes files under root, making each parent directory on first use, and counts them. */
function treeWriter(root: string, rng: Prng): { stats: TreeStats; write: (rel: string, data: Buffer) => void; text: (len: number) => Buffer } {
  const pool = textPool(rng, 4 << 20);
  const stats: TreeStats = { files: 0, dirs: 0, bytes: 0 };
  const made = new Set<string>();
  const write = (rel: string, data: Buffer) => {
    const dir = rel.slice(0, rel.lastIndexOf('/'));
    if (!made.has(dir)) {
      fs.mkdirSync(join(root, dir), { recursive: true });
      made.add(dir);
      stats.dirs++;
    }
    fs.writeFileSync(join(root, rel), data);
    stats.files++;
    stats.bytes += data.length;
  };
  const text = (len: number) => {
    const start = rng.int(0, pool.length - len - 1);
    return pool.subarray(start, start + len);
  };
  return { stats, write, text };
}

/** Region files: 4 KiB sectors, most hold compressed chunk data (random), some are zero padding. */
function regionBytes(rng: Prng, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let off = 0; off < size; off += 4096) {
    if (rng.int(0, 9) < 8) rng.fill(b, off, Math.min(size, off + 4096));
  }
  return b;
}

/**
 * The trees game servers have (issue 11): `small` is a modded server, 54,200 files / ~225 MiB:
 * deep config folders (16 files each) of 100 B–6 KiB text files, 30,000 player files of 1–4 KiB (gzipped NBT, so
 * incompressible), 180 jars and 24 region files. `mixed` is ~25,800 files / ~240 MiB: the same kinds
 * with more weight on jars, regions and logs. `large` is mostly big files (regions, jars, logs) of
 * `largeBytes` in all.
 */
export function generateShape(root: string, shape: Shape, largeBytes = 512 << 20, seed = 42): TreeStats {
  if (shape === 'large') return generateTree(root, largeBytes, seed);
  const rng = new Prng(seed);
  const { stats, write, text } = treeWriter(root, rng);
  const random = (len: number) => {
    const b = Buffer.allocUnsafe(len);
    rng.fill(b);
    return b;
  };
  const plan =
    shape === 'small'
      ? { configs: 24_000, players: 30_000, jars: 180, jarMax: 400 << 10, regions: 24, regionMax: 3 << 20, logs: 0 }
      : { configs: 15_000, players: 10_700, jars: 60, jarMax: 2 << 20, regions: 20, regionMax: 7 << 20, logs: 8 };
  const MODS = ['create', 'mekanism', 'thermal', 'ae2', 'botania', 'quark', 'immersive', 'tconstruct', 'ftbquests', 'jei', 'kubejs', 'waystones'];
  for (let i = 0; i < plan.configs; i++) {
    // Deep folders: config/<mod>/<area>/<group>/, 16 files each
    const group = Math.floor(i / 16);
    const mod = MODS[group % MODS.length]!;
    const ext = ['toml', 'json', 'yml', 'snbt', 'js'][rng.int(0, 4)]!;
    write(`config/${mod}/area-${group % 7}/group-${group}/entry-${i}.${ext}`, text(rng.int(100, 6 << 10)));
  }
  for (let i = 0; i < plan.players; i++) {
    const uuid = `${rng.next().toString(16).padStart(8, '0')}-${(rng.next() & 0xffff).toString(16).padStart(4, '0')}-4${(rng.next() & 0xfff).toString(16).padStart(3, '0')}-a${(rng.next() & 0xfff).toString(16).padStart(3, '0')}-${rng.next().toString(16).padStart(8, '0')}${(rng.next() & 0xffff).toString(16).padStart(4, '0')}`;
    write(`world/playerdata/${uuid}.dat`, random(rng.int(1 << 10, 4 << 10)));
  }
  for (let i = 0; i < plan.jars; i++) write(`mods/mod-${i}.jar`, random(rng.int(20 << 10, plan.jarMax)));
  for (let i = 0; i < plan.regions; i++) write(`world/region/r.${(i % 6) - 3}.${Math.floor(i / 6) - 2}.mca`, regionBytes(rng, rng.int(512 << 10, plan.regionMax)));
  for (let i = 0; i < plan.logs; i++) write(`logs/2026-01-${String(i + 1).padStart(2, '0')}-1.log.txt`, text(rng.int(1 << 20, 3 << 20)));
  return stats;
}

export function generateTree(root: string, totalBytes: number, seed = 42): TreeStats {
  const rng = new Prng(seed);
  const { stats, write, text: textSlice } = treeWriter(root, rng);
  const mkdir = (rel: string) => fs.mkdirSync(join(root, rel), { recursive: true });

  // ~60% regions, ~15% jars, ~15% logs, ~10% small files
  const regionBudget = totalBytes * 0.6;
  const jarBudget = totalBytes * 0.15;
  const logBudget = totalBytes * 0.15;
  const smallBudget = totalBytes * 0.1;

  for (const dim of ['world/region', 'world_nether/DIM-1/region', 'world_the_end/DIM1/region']) mkdir(dim);
  let used = 0;
  let r = 0;
  while (used < regionBudget) {
    const size = Math.min(rng.int(3 << 20, 8 << 20), Math.ceil(regionBudget - used));
    const b = regionBytes(rng, size);
    const dim = ['world/region', 'world_nether/DIM-1/region', 'world_the_end/DIM1/region'][r % 3]!;
    write(`${dim}/r.${(r % 16) - 8}.${Math.floor(r / 16) - 4}.mca`, b);
    used += size;
    r++;
  }
  mkdir('plugins');
  used = 0;
  let j = 0;
  while (used < jarBudget) {
    const size = Math.min(rng.int(200 << 10, 6 << 20), Math.ceil(jarBudget - used));
    const b = Buffer.allocUnsafe(size);
    rng.fill(b);
    write(`plugins/plugin-${j++}.jar`, b);
    used += size;
  }
  mkdir('logs');
  used = 0;
  let l = 0;
  while (used < logBudget) {
    const size = Math.min(rng.int(1 << 20, 3 << 20), Math.ceil(logBudget - used), (4 << 20) - 2);
    write(`logs/2026-01-${String((l % 28) + 1).padStart(2, '0')}-${l}.log`, textSlice(size));
    used += size;
    l++;
  }
  used = 0;
  let s = 0;
  let dir = '';
  while (used < smallBudget) {
    if (s % 200 === 0) {
      dir = `plugins/plugin-${s % Math.max(1, j)}/data/${Math.floor(s / 200)}`;
      mkdir(dir);
    }
    const size = rng.int(200, 12 << 10);
    const kind = rng.int(0, 2);
    const ext = ['yml', 'json', 'properties'][kind]!;
    write(`${dir}/cfg-${s}.${ext}`, textSlice(size));
    used += size;
    s++;
  }
  return stats;
}

export interface TreeInfo {
  dir: string;
  bytes: number;
  files: number;
}

/** Builds the shape's tree under `root` once; the marker sits beside the tree so no tool archives it. */
export function ensureTree(root: string, shape: Shape, largeBytes = 512 << 20): TreeInfo {
  const dir = join(root, shape === 'large' ? `tree-large-${largeBytes}` : `tree-${shape}`);
  const marker = `${dir}.json`;
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8')) as TreeInfo;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const stats = generateShape(dir, shape, largeBytes);
  const info = { dir, bytes: stats.bytes, files: stats.files };
  fs.writeFileSync(marker, JSON.stringify(info));
  console.error(`generated the ${shape} tree: ${stats.files} files, ${(stats.bytes / (1 << 20)).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return info;
}
