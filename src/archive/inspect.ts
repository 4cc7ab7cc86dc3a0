import type { Readable } from 'node:stream';
import { entryTypeOf } from './backup-index.ts';
import { Inflater } from './inflate.ts';
import { TYPE } from './tar-header.ts';
import { TarParser, type TarEntry } from './tar-parser.ts';
import type { ListedEntry, VerifyResult } from './types.ts';

function toListed(e: TarEntry): ListedEntry {
  const out: ListedEntry = { name: e.name, type: entryTypeOf(e.type), size: e.type === TYPE.dir ? 0 : e.size, mode: e.mode, mtime: new Date(e.mtime * 1000) };
  if (e.type === TYPE.symlink || e.type === TYPE.hardlink) out.linkname = e.linkname;
  return out;
}

/** Entries of a .tar.gz, in archive order, streamed (memory does not grow with the archive). */
export async function* listArchive(input: NodeJS.ReadableStream | Readable): AsyncGenerator<ListedEntry> {
  const inflater = new Inflater();
  const batch: ListedEntry[] = [];
  const parser = new TarParser({
    onEntry(e) {
      batch.push(toListed(e));
      return null;
    },
  });
  for await (const chunk of inflater.chunks(input)) {
    if (!parser.ended) parser.push(chunk);
    if (batch.length > 0) yield* batch.splice(0);
  }
  parser.end();
  yield* batch.splice(0);
}

/** Inflates every member (CRC and length checked) and walks the whole tar stream. */
export async function verifyArchive(input: NodeJS.ReadableStream | Readable): Promise<VerifyResult> {
  const inflater = new Inflater();
  const parser = new TarParser({ onEntry: () => null });
  let bytes = 0;
  for await (const chunk of inflater.chunks(input)) {
    bytes += chunk.length;
    if (!parser.ended) parser.push(chunk);
  }
  parser.end();
  return { members: inflater.members, entries: parser.entries, bytes, parallelIndexed: inflater.parallelIndexed && inflater.members > 0 };
}
