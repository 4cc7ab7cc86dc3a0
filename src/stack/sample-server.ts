/**
 * Files for the demo server, so the first backup has something that looks like a game server:
 * text config, a binary world, logs, and a .pteroignore that leaves some of it out.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Deterministic pseudo-random bytes: the same demo on every machine, without Math.random. */
function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < length; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const SAMPLE_FILES: Record<string, () => Buffer> = {
  'server.properties': () =>
    Buffer.from(
      ['#Minecraft server properties', 'motd=A backwing demo server', 'server-port=25565', 'max-players=20', 'level-name=world', 'online-mode=true', ''].join('\n'),
    ),
  'eula.txt': () => Buffer.from('eula=true\n'),
  // Gzipped NBT-ish payload: compressed data, like the real level.dat.
  'world/level.dat': () => gzipSync(Buffer.concat([Buffer.from('\n\0\0'), bytes('level', 2048)])),
  // Region files are mostly incompressible chunk data.
  'world/region/r.0.0.mca': () => bytes('region-0-0', 512 * 1024),
  'world/region/r.0.-1.mca': () => bytes('region-0-m1', 256 * 1024),
  'logs/latest.log': () =>
    Buffer.from(
      Array.from({ length: 400 }, (_, i) => `[12:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}] [Server thread/INFO]: tick ${i}`).join('\n') + '\n',
    ),
  'logs/2026-01-01-1.log.gz': () => gzipSync(Buffer.from('an old rotated log\n'.repeat(200))),
  'cache/mojang_1.20.jar.tmp': () => bytes('cache', 64 * 1024),
  '.pteroignore': () => Buffer.from(['# left out of every backup of this server', 'cache/', '*.log.gz', ''].join('\n')),
};

/** Paths a backup of the demo server contains (the .pteroignore rules applied). */
export const SAMPLE_BACKED_UP = Object.keys(SAMPLE_FILES).filter((p) => !p.startsWith('cache/') && !p.endsWith('.log.gz'));

/** Fills `dir` with the sample files unless it already holds something (never overwrite user data). */
export async function writeSampleFiles(dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) return false;
  for (const [rel, make] of Object.entries(SAMPLE_FILES)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, make());
  }
  return true;
}
