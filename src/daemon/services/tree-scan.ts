/**
 * The size pre-scan behind a backup's percentage: walks the server's tree with the same ignore
 * rules the archive applies (`.pteroignore`, then the request's list) and adds up the sizes of the
 * regular files the archive will read. It only stats, never reads file contents, and runs with
 * async I/O alongside the archive, which never waits for it: the job starts at once and the total
 * arrives when the scan is done (seconds for a tree the archive takes minutes over).
 */
import type { Dirent } from 'node:fs';
import { opendir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { IgnoreMatcher } from '../../archive/index.ts';
import { readPteroignoreFile } from './pteroignore.ts';

export interface TreeScanResult {
  /** Bytes of regular files the archive will read (its `bytesRead` at the end, if nothing changes). */
  bytes: number;
  files: number;
}

/** Stats in flight at once: enough to hide latency, few enough to leave the threadpool to the archive. */
const STAT_BATCH = 8;

export async function scanTree(root: string, ignore: string, signal?: AbortSignal): Promise<TreeScanResult> {
  const pteroignore = await readPteroignoreFile(root);
  const matcher = IgnoreMatcher.from({ text: pteroignore.text, source: '.pteroignore' }, { text: ignore, source: 'ignore' });
  let bytes = 0;
  let files = 0;
  const dirs: string[] = [''];
  while (dirs.length > 0) {
    signal?.throwIfAborted();
    const rel = dirs.pop()!;
    let dir;
    try {
      dir = await opendir(rel === '' ? root : join(root, rel));
    } catch {
      continue; // vanished or unreadable: the archive will say so if it matters
    }
    const pendingFiles: string[] = [];
    for await (const entry of dir) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!matcher.matches(childRel, true)) dirs.push(childRel);
      } else if (entry.isFile() || isUnknownType(entry)) {
        // An unknown type (some file systems do not fill d_type) is settled by the lstat below.
        if (!matcher.matches(childRel, false)) pendingFiles.push(childRel);
      }
    }
    for (let i = 0; i < pendingFiles.length; i += STAT_BATCH) {
      signal?.throwIfAborted();
      const sizes = await Promise.all(pendingFiles.slice(i, i + STAT_BATCH).map((f) => lstat(join(root, f)).then((s) => (s.isFile() ? s.size : -1), () => -1)));
      for (const s of sizes) {
        if (s < 0) continue;
        bytes += s;
        files++;
      }
    }
  }
  return { bytes, files };
}

function isUnknownType(e: Dirent): boolean {
  return !e.isFile() && !e.isDirectory() && !e.isSymbolicLink() && !e.isFIFO() && !e.isSocket() && !e.isBlockDevice() && !e.isCharacterDevice();
}
