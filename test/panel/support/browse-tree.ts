/** The small server tree the browse suites back up: a region file, two plugin configs, server.properties. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the tree into `vol`; returns the region file's (random) bytes. */
export function writeBrowseTree(vol: string): Buffer {
  mkdirSync(join(vol, 'world/region'), { recursive: true });
  mkdirSync(join(vol, 'plugins'), { recursive: true });
  const region = randomBytes(200_000);
  writeFileSync(join(vol, 'world/region/r.0.0.mca'), region);
  writeFileSync(join(vol, 'plugins/a.yml'), 'a: 1\n');
  writeFileSync(join(vol, 'plugins/b.yml'), 'b: 1\n');
  writeFileSync(join(vol, 'server.properties'), 'motd=hi\n');
  return region;
}
