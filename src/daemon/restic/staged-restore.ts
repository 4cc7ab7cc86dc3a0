/**
 * A restic restore lands in a fresh staging directory inside the server's own directory (same
 * filesystem, so moving is a rename), and only then replaces the server's files. Nothing is
 * written outside the server directory: restic writes into a directory this code just created,
 * and the move never follows a link (lstat everywhere; a link in the way is removed, not entered).
 */
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { realDirectory } from '../services/backup-store.ts';
import { join } from 'node:path';

export function stagingDirName(backupUuid: string): string {
  // `.backwing-` names are what the daemon's temp-file cleanup removes after a crash.
  return `.backwing-restore-${backupUuid}`;
}

/** Creates an empty staging directory (whatever had the name is removed first, never followed). */
export async function createStaging(serverDir: string, backupUuid: string): Promise<string> {
  const dir = join(serverDir, stagingDirName(backupUuid));
  await rm(dir, { recursive: true, force: true });
  // Not recursive: if something appeared meanwhile, fail rather than write into it.
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/** With `keepNewer`: a restored file is left out where the server's copy is newer (whole seconds, as the archive restore compares). */
async function serverCopyIsNewer(src: string, dst: string): Promise<boolean> {
  const [s, d] = await Promise.all([lstat(src), lstat(dst).catch(() => null)]);
  return s.isFile() && d !== null && Math.floor(d.mtimeMs / 1000) > Math.floor(s.mtimeMs / 1000);
}

/** Moves `from`'s entries into `to`, merging directories; whatever is in the way is replaced. */
async function merge(from: string, to: string, keepNewer: boolean): Promise<number> {
  let moved = 0;
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if ((await realDirectory(src)) && (await realDirectory(dst))) {
      moved += await merge(src, dst, keepNewer);
      continue;
    }
    if (keepNewer && (await serverCopyIsNewer(src, dst))) continue;
    await rm(dst, { recursive: true, force: true });
    await rename(src, dst);
    moved++;
  }
  return moved;
}

/**
 * Puts the staged files in place. `truncate`: everything else in the server directory goes first
 * (the directory itself stays, with its owner and mode). `keepNewer`: a file whose copy on the
 * server is newer than the backup's stays as it is. Then the staging directory is removed.
 */
export async function applyStaging(serverDir: string, staging: string, truncate: boolean, keepNewer = false): Promise<number> {
  const stagingName = staging.slice(serverDir.replace(/\/+$/, '').length + 1);
  if (truncate) {
    for (const name of await readdir(serverDir)) {
      if (name !== stagingName) await rm(join(serverDir, name), { recursive: true, force: true });
    }
  }
  const moved = await merge(staging, serverDir, keepNewer);
  await rm(staging, { recursive: true, force: true });
  return moved;
}
