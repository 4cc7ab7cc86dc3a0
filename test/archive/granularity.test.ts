import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ArchiveError, createArchive, createArchiveFile, extractArchive, type ArchiveProgress } from '../../src/archive/index.ts';
import { randomBytes, tempDir } from './helpers.ts';

const BIG = 64 << 20;
// ~2.7 s for 64 MiB of stored output: long enough for several time-based progress reports.
const LIMIT = 24 << 20;

/** One 64 MiB file: a 1 MiB random block repeated, which deflate cannot shrink (its window is 32 KiB). */
function bigTree(root: string): string {
  const src = join(root, 'src');
  fs.mkdirSync(src);
  const block = randomBytes(1 << 20);
  const fd = fs.openSync(join(src, 'world.bin'), 'w');
  try {
    for (let i = 0; i < BIG >> 20; i++) fs.writeSync(fd, block);
  } finally {
    fs.closeSync(fd);
  }
  return src;
}

function counter(): { sink: Writable; bytes: () => number } {
  let n = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      n += chunk.length;
      cb();
    },
  });
  return { sink, bytes: () => n };
}

function midRun(seen: ArchiveProgress[]): ArchiveProgress[] {
  return seen.filter((p) => p.bytesRead > 0 && p.bytesRead < BIG);
}

test('create reports progress inside one big file and an abort there stops it promptly', { timeout: 60_000 }, async () => {
  const t = await tempDir();
  try {
    const src = bigTree(t.path);
    const seen: ArchiveProgress[] = [];
    const out = counter();
    const r = await createArchive(src, out.sink, { level: 'none', writeLimit: LIMIT, onProgress: (p) => seen.push({ ...p }) });
    assert.equal(r.bytesRead, BIG);
    assert.ok(r.size > BIG, 'stored, not compressed');
    const mid = midRun(seen);
    assert.ok(mid.length >= 3, `progress before the end: ${JSON.stringify(seen.map((p) => p.bytesRead))}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesRead >= seen[i - 1]!.bytesRead, 'bytesRead never goes back');
    assert.ok(new Set(mid.map((p) => p.bytesRead)).size >= 3, 'bytesRead increases during the file');
    assert.equal(seen.at(-1)!.bytesRead, BIG);

    // Abort from the first progress report: the file is far from done.
    const ac = new AbortController();
    const out2 = counter();
    let abortedAt = -1;
    const p = createArchive(src, out2.sink, {
      level: 'none',
      writeLimit: LIMIT,
      signal: ac.signal,
      onProgress: (pr) => {
        if (abortedAt < 0 && pr.bytesRead < BIG) {
          abortedAt = pr.bytesRead;
          ac.abort();
        }
      },
    });
    await assert.rejects(p, (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED');
    assert.ok(abortedAt >= 0 && abortedAt < BIG / 4, `aborted at ${abortedAt}`);
    assert.ok(out2.bytes() < BIG / 4, `only ${out2.bytes()} bytes were written after the abort`);

    // The same through createArchiveFile: nothing is left in the directory.
    const ac3 = new AbortController();
    const outDir = join(t.path, 'out');
    fs.mkdirSync(outDir);
    let reports = 0;
    const p3 = createArchiveFile(src, join(outDir, 'b.tar.gz'), {
      level: 'none',
      writeLimit: LIMIT,
      signal: ac3.signal,
      onProgress: (pr) => {
        reports++;
        if (pr.bytesRead < BIG) ac3.abort();
      },
    });
    await assert.rejects(p3, (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED');
    assert.ok(reports >= 1);
    assert.deepEqual(fs.readdirSync(outDir), [], 'no archive and no temporary file');
  } finally {
    await t.cleanup();
  }
});

test('extract reports progress inside one big file and an abort there stops it promptly', { timeout: 60_000 }, async () => {
  const t = await tempDir();
  try {
    const src = bigTree(t.path);
    const file = join(t.path, 'big.tar.gz');
    await createArchiveFile(src, file, { level: 'none' });
    const total = fs.statSync(file).size;

    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    const seen: ArchiveProgress[] = [];
    const r = await extractArchive(fs.createReadStream(file), dst, { readLimit: LIMIT, onProgress: (p) => seen.push({ ...p }) });
    assert.equal(r.bytesWritten, BIG);
    const mid = seen.filter((p) => p.bytesRead > 0 && p.bytesRead < total);
    assert.ok(mid.length >= 3, `progress before the end: ${JSON.stringify(seen.map((p) => p.bytesRead))}`);
    assert.ok(new Set(mid.map((p) => p.bytesWritten)).size >= 3, 'bytesWritten grows while the big file is written');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesRead >= seen[i - 1]!.bytesRead);

    const dst2 = join(t.path, 'dst2');
    fs.mkdirSync(dst2);
    const ac = new AbortController();
    let abortedAt = -1;
    const p = extractArchive(fs.createReadStream(file), dst2, {
      readLimit: LIMIT,
      signal: ac.signal,
      onProgress: (pr) => {
        if (abortedAt < 0 && pr.bytesRead < total) {
          abortedAt = pr.bytesRead;
          ac.abort();
        }
      },
    });
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED');
      assert.ok(err.partial !== undefined && err.partial.bytesWritten < BIG / 4, `wrote ${err.partial?.bytesWritten} bytes after the abort`);
      return true;
    });
    assert.ok(abortedAt >= 0 && abortedAt < total / 4, `aborted at ${abortedAt}`);
  } finally {
    await t.cleanup();
  }
});
