/**
 * A restic snapshot as a browse index: `restic ls --json <snapshot>` gives every node of the
 * snapshot (path, type, size, mode, mtime); they become the same IndexView a tar.gz backup's BWIX
 * index gives, so listing, search, stat and compare (even a restic backup against a tar.gz one)
 * run through the same code. Nothing is stored: a snapshot never changes, so the view is kept in
 * memory by snapshot id (see ResticBrowse) and made again from the repository after a restart.
 */
import { IndexView, type IndexEntry } from '../../archive/index.ts';
import type { EntryType } from '../../archive/types.ts';

const TYPES: Record<string, EntryType> = { file: 'file', dir: 'dir', symlink: 'symlink' };

/** One `struct_type: node` line of `restic ls --json`; null for anything else (the snapshot line). */
export function entryOfResticNode(m: Record<string, unknown>, position: number): IndexEntry | null {
  if (m.struct_type !== 'node' || typeof m.path !== 'string') return null;
  // Snapshots are taken as `restic backup .`, so `/world/level.dat` is the server's `world/level.dat`.
  const path = m.path.replace(/^\/+/, '');
  if (path === '') return null;
  const type = TYPES[String(m.type)] ?? 'other';
  const mtime = typeof m.mtime === 'string' ? Date.parse(m.mtime) : NaN;
  const entry: IndexEntry = {
    path,
    type,
    size: type === 'file' && typeof m.size === 'number' ? m.size : 0,
    // Go's FileMode: type bits high, permission bits low.
    mode: typeof m.mode === 'number' ? m.mode & 0o777 : 0o644,
    mtime: Number.isFinite(mtime) ? Math.floor(mtime / 1000) : 0,
    // No tar offsets here; the position keeps the entries in restic's (sorted) order.
    tarOffset: position,
  };
  if (typeof m.linktarget === 'string') entry.linkname = m.linktarget;
  return entry;
}

export function viewOfResticNodes(entries: IndexEntry[]): IndexView {
  return new IndexView({ version: 1, slice: 0, archiveSize: 0, tarEnd: entries.length, memberOffsets: [0], entries });
}

/** restic's `--include` patterns are globs: `*`, `?`, `[` and `\` in a name are escaped to match only it. */
export function resticIncludeOf(path: string): string {
  return `/${path.replace(/[*?[\\]/g, (c) => `\\${c}`)}`;
}
