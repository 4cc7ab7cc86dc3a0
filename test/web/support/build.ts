/**
 * The browser tests need src/web/dist to match the sources. Rebuild when it is missing or older
 * than any source file, under a lock so two test processes never run vite into the same folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
const WEB = join(REPO, 'src/web');
const DIST_INDEX = join(WEB, 'dist/index.html');

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'node_modules') continue;
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestSource(p) : st.mtimeMs);
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  if (!existsSync(DIST_INDEX)) return true;
  return statSync(DIST_INDEX).mtimeMs < newestSource(WEB);
}

export async function ensureWebBuilt(): Promise<void> {
  // The lock lives outside the tree (nothing to git-ignore); one left by a killed run goes stale.
  const lock = join(tmpdir(), `backwing-web-build-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 150_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 130_000) rmdirSync(lock);
      } catch { /* released meanwhile */ }
      if (Date.now() > deadline) throw new Error(`web build lock ${lock} held too long; remove it if no build runs`);
      await sleep(250);
    }
  }
  try {
    if (webBuildIsStale()) {
      execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    }
    if (webBuildIsStale()) throw new Error('npm run build:web did not produce an up-to-date src/web/dist');
  } finally {
    rmdirSync(lock);
  }
}
