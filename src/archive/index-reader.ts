/**
 * Reading parts of an archive through its index: only the gzip members that hold the chosen
 * entries are fetched and inflated (see backup-index.ts for the layout). Archives whose index has
 * no member table (a plain gzip, from Wings or GNU tar) are read from the start instead.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ArchiveError, throwIfAborted } from './archive-error.ts';
import { decodeIndex, encodeIndex, entryTypeOf, IndexMismatchError, normalIndexPath, type BackupIndex, type IndexEntry } from './backup-index.ts';
import { Inflater } from './inflate.ts';
import { BLOCK, TYPE } from './tar-header.ts';
import { TarParser, type TarEntry } from './tar-parser.ts';

/** Where the archive's bytes come from: a local file or ranged GETs of an S3 object. */
export interface ArchiveSource {
  /** Bytes [start, end) of the archive (end omitted: to its end). */
  open(start: number, end?: number): Promise<Readable>;
}

/** Entries by path (the last copy of a name wins, as extraction does) and directory listings. */
export class IndexView {
  readonly #byPath = new Map<string, number>();
  #children: Map<string, number[]> | null = null;

  constructor(readonly index: BackupIndex) {
    index.entries.forEach((e, i) => this.#byPath.set(e.path, i));
  }

  get(path: string): IndexEntry | undefined {
    const i = this.#byPath.get(path);
    return i === undefined ? undefined : this.index.entries[i];
  }

  /** True for the root, a directory entry, or a path that only appears as a parent of entries. */
  isDirectory(path: string): boolean {
    if (path === '') return true;
    const e = this.get(path);
    if (e) return e.type === 'dir';
    return this.#childMap().has(path);
  }

  #childMap(): Map<string, number[]> {
    if (this.#children) return this.#children;
    const m = new Map<string, number[]>();
    const seenDirs = new Set<string>();
    for (const i of new Set(this.#byPath.values())) {
      const p = this.index.entries[i]!.path;
      const slash = p.lastIndexOf('/');
      const parent = slash < 0 ? '' : p.slice(0, slash);
      let list = m.get(parent);
      if (!list) m.set(parent, (list = []));
      list.push(i);
      // Archives without directory entries (Wings) still list their folders.
      let dir = parent;
      while (dir !== '' && !seenDirs.has(dir)) {
        seenDirs.add(dir);
        const s = dir.lastIndexOf('/');
        const up = s < 0 ? '' : dir.slice(0, s);
        if (!m.has(up)) m.set(up, []);
        if (!m.has(dir)) m.set(dir, []);
        dir = up;
      }
    }
    for (const dir of seenDirs) {
      if (this.#byPath.has(dir)) continue;
      const s = dir.lastIndexOf('/');
      const up = s < 0 ? '' : dir.slice(0, s);
      m.get(up)!.push(-1 - this.#synthetic(dir));
    }
    this.#children = m;
    return m;
  }

  readonly #synthetics: IndexEntry[] = [];
  #synthetic(path: string): number {
    this.#synthetics.push({ path, type: 'dir', size: 0, mode: 0o755, mtime: 0, tarOffset: -1 });
    return this.#synthetics.length - 1;
  }

  /** The entries directly in `dir`: directories first, then by name. */
  list(dir: string): IndexEntry[] {
    const ids = this.#childMap().get(dir) ?? [];
    const out = ids.map((i) => (i >= 0 ? this.index.entries[i]! : this.#synthetics[-1 - i]!));
    return out.sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  }

  /** Every live entry (last copy of each name), in tar order. */
  *all(): Generator<IndexEntry> {
    const live = [...new Set(this.#byPath.values())].sort((a, b) => a - b);
    for (const i of live) yield this.index.entries[i]!;
  }

  /**
   * Positions (in tar order) of the entries a selection covers: each path itself and, for a
   * directory, everything below it. `missing` names the paths the archive does not have.
   */
  select(paths: string[]): { picks: number[]; missing: string[] } {
    const picks = new Set<number>();
    const missing: string[] = [];
    const live = new Set(this.#byPath.values());
    for (const path of paths) {
      let found = false;
      const own = this.#byPath.get(path);
      if (own !== undefined) {
        picks.add(own);
        found = true;
      }
      if (path === '' || own === undefined || this.index.entries[own]!.type === 'dir') {
        const prefix = path === '' ? '' : `${path}/`;
        this.index.entries.forEach((e, i) => {
          if (live.has(i) && e.path.startsWith(prefix)) {
            picks.add(i);
            found = true;
          }
        });
      }
      if (!found) missing.push(path);
    }
    return { picks: [...picks].sort((a, b) => a - b), missing };
  }
}

/** The tar bytes entry `k` occupies: from its first header to the next entry's (or the end). */
function spanOf(ix: BackupIndex, k: number): [number, number] {
  const start = ix.entries[k]!.tarOffset;
  const end = k + 1 < ix.entries.length ? ix.entries[k + 1]!.tarOffset : ix.tarEnd;
  return [start, end];
}

function mergedSpans(ix: BackupIndex, picks: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const k of picks) {
    const [a, b] = spanOf(ix, k);
    const last = out[out.length - 1];
    if (last && last[1] === a) last[1] = b;
    else out.push([a, b]);
  }
  return out;
}

const END_BLOCKS = Buffer.alloc(BLOCK * 2);

/**
 * A tar stream (end marker included) of exactly the picked entries, read through the index. Each
 * entry's header is checked against the index before its bytes are handed on; a disagreement is
 * an IndexMismatchError.
 */
export async function* readIndexedTar(src: ArchiveSource, ix: BackupIndex, picks: number[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const expected = picks.map((k) => ix.entries[k]!);
  let next = 0;
  const parser = new TarParser({
    onEntry(e: TarEntry) {
      const want = expected[next++];
      const got = normalIndexPath(e.name);
      if (!want || got !== want.path) throw new IndexMismatchError(`expected ${JSON.stringify(want?.path)} at tar offset ${want?.tarOffset}, found ${JSON.stringify(got)}`);
      return null;
    },
  });
  const spans = mergedSpans(ix, picks);
  const check = (chunk: Buffer): Buffer => {
    try {
      parser.push(chunk);
    } catch (err) {
      if (err instanceof IndexMismatchError) throw err;
      throw new IndexMismatchError((err as Error).message);
    }
    return chunk;
  };
  if (ix.slice === 0 || ix.memberOffsets.length < 2) {
    yield* cut(await src.open(0), 0, spans, check, signal);
  } else {
    for (const [a, b] of spans) {
      const first = Math.floor(a / ix.slice);
      const last = Math.floor((b - 1) / ix.slice);
      if (last + 1 >= ix.memberOffsets.length) throw new IndexMismatchError(`tar offset ${b} is past the last member`);
      const stream = await src.open(ix.memberOffsets[first]!, ix.memberOffsets[last + 1]!);
      yield* cut(stream, first * ix.slice, [[a, b]], check, signal);
    }
  }
  if (next !== expected.length) throw new IndexMismatchError(`${expected.length - next} entries were not where the index says`);
  yield END_BLOCKS;
}

/** Inflates `stream` (whose output starts at tar offset `base`) and hands on the bytes within `spans`. */
async function* cut(stream: Readable, base: number, spans: Array<[number, number]>, check: (b: Buffer) => Buffer, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let pos = base;
  let s = 0;
  try {
    for await (const chunk of new Inflater({ signal }).chunks(stream)) {
      const end = pos + chunk.length;
      while (s < spans.length) {
        const [a, b] = spans[s]!;
        if (a >= end) break;
        const from = Math.max(a, pos);
        const to = Math.min(b, end);
        if (to > from) yield check(chunk.subarray(from - pos, to - pos));
        if (b <= end) s++;
        else break;
      }
      pos = end;
      if (s >= spans.length) return;
    }
  } catch (err) {
    if (err instanceof ArchiveError && (err.code === 'E_ARCHIVE_CORRUPT' || err.code === 'E_ARCHIVE_TRUNCATED')) throw new IndexMismatchError(err.message);
    throw err;
  } finally {
    stream.destroy();
  }
  if (s < spans.length) throw new IndexMismatchError(`the archive ends before tar offset ${spans[s]![1]}`);
}

/** The contents of one regular file, read through the index. */
export async function* readIndexedFile(src: ArchiveSource, ix: BackupIndex, pick: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const parser = new TarParser({
    onEntry: () => ({ write: (b: Buffer) => void out.push(Buffer.from(b)), end: () => undefined }),
  });
  for await (const chunk of readIndexedTar(src, ix, [pick], signal)) {
    if (!parser.ended) parser.push(chunk);
    if (out.length > 0) yield* out.splice(0);
  }
}

/**
 * Builds an index for an archive that has none (Wings, GNU tar, older backwing) by one streaming
 * pass. It has no member table, so reads through it start at the archive's beginning.
 */
export async function buildIndex(src: ArchiveSource, archiveSize: number, signal?: AbortSignal): Promise<Buffer> {
  const entries: IndexEntry[] = [];
  let tarEnd = 0;
  const parser = new TarParser({
    onEntry(e) {
      const type = entryTypeOf(e.type);
      const path = normalIndexPath(e.name);
      const hasData = !(e.type >= TYPE.hardlink && e.type <= TYPE.fifo);
      tarEnd = e.offset + BLOCK + (hasData ? Math.ceil(e.size / BLOCK) * BLOCK : 0);
      if (path === '' || path === '.') return null;
      const entry: IndexEntry = { path, type, size: type === 'file' ? e.size : 0, mode: e.mode, mtime: e.mtime, tarOffset: e.start };
      if (type === 'symlink' || type === 'hardlink') entry.linkname = e.linkname;
      entries.push(entry);
      return null;
    },
  });
  const stream = await src.open(0);
  try {
    for await (const chunk of new Inflater({ signal }).chunks(stream)) {
      throwIfAborted(signal);
      if (!parser.ended) parser.push(chunk);
    }
    parser.end();
  } finally {
    stream.destroy();
  }
  return encodeIndex({ slice: 0, archiveSize, tarEnd, memberOffsets: [], entries });
}

export { decodeIndex };

/** A local archive file as a source; `counter.bytes` adds up what was read (for tests and the bench). */
export function fileSource(path: string, counter: { bytes: number } = { bytes: 0 }): ArchiveSource {
  return {
    async open(start, end) {
      if (end !== undefined && end <= start) throw new IndexMismatchError(`empty byte range ${start}-${end}`);
      const s = createReadStream(path, { start, ...(end !== undefined ? { end: end - 1 } : {}), highWaterMark: 256 * 1024 });
      s.on('data', (b) => (counter.bytes += b.length));
      return s;
    },
  };
}
