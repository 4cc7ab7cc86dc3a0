import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { isAppError } from '../../src/core/app-error.ts';
import { ArchiveError, createArchive, createArchiveFile, extractArchive, listArchive, verifyArchive, type ArchiveProgress } from '../../src/archive/index.ts';
import { TarProducer } from '../../src/archive/create.ts';
import { OutputSink } from '../../src/archive/output-sink.ts';
import { ParallelGzip } from '../../src/archive/parallel-gzip.ts';
import { buildTree, randomBytes, tempDir } from './helpers.ts';
import { gunzipSync } from 'node:zlib';

async function names(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of listArchive(fs.createReadStream(file))) out.push(e.name);
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)))]).finally(() => clearTimeout(timer));
}

test('FIFOs, sockets and devices in the tree are skipped without being opened (no hang)', async () => {
  const t = await tempDir();
  const server = createServer();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(join(src, 'a.txt'), 'a');
    spawnSync('mkfifo', [join(src, 'pipe')]);
    assert.ok(fs.lstatSync(join(src, 'pipe')).isFIFO());
    await new Promise<void>((r) => server.listen(join(src, 'sock'), r));
    spawnSync('mkfifo', [join(src, '.pteroignore')]); // a FIFO .pteroignore must not hang either
    // A character device (/dev/zero's numbers: reading it would never end). Only root may mknod.
    const isRoot = process.getuid?.() === 0;
    if (isRoot) {
      assert.equal(spawnSync('mknod', [join(src, 'zero-dev'), 'c', '1', '5']).status, 0);
      assert.ok(fs.lstatSync(join(src, 'zero-dev')).isCharacterDevice());
    } else {
      console.log('# not root: the character-device part of this test cannot create a device node');
    }
    const file = join(t.path, 'out.tar.gz');
    await withTimeout(createArchiveFile(src, file), 20_000, 'archive with a FIFO and a device');
    assert.deepEqual(await names(file), ['a.txt']);
  } finally {
    server.close();
    await t.cleanup();
  }
});

test('ignore rules from .pteroignore and the request are merged; ignored dirs are not walked', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    const w = (rel: string, data = 'x') => {
      fs.mkdirSync(join(src, rel, '..'), { recursive: true });
      fs.writeFileSync(join(src, rel), data);
    };
    w('logs/latest.log');
    w('logs/keep.log');
    w('cache/keep.txt');
    w('cache/drop.bin');
    w('world/region/r.0.0.mca');
    w('world (copy)/level.dat');
    w('c++/main.cpp');
    w('server.jar');
    fs.writeFileSync(join(src, '.pteroignore'), '*.log\ncache/\n!cache/keep.txt\n');
    const file = join(t.path, 'out.tar.gz');
    // request patterns come after .pteroignore, so `!keep.log` overrides it
    await createArchiveFile(src, file, { ignore: '!keep.log\nworld (copy)/\nc++/' });
    assert.deepEqual(await names(file), ['.pteroignore', 'logs/', 'logs/keep.log', 'server.jar', 'world/', 'world/region/', 'world/region/r.0.0.mca']);
  } finally {
    await t.cleanup();
  }
});

test('.pteroignore is never read through a symlink; oversized ignore input is a clear error', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(join(src, 'keep.txt'), 'k');
    fs.writeFileSync(join(t.path, 'outside-ignore'), '*\n');
    fs.symlinkSync(join(t.path, 'outside-ignore'), join(src, '.pteroignore'));
    const file = join(t.path, 'out.tar.gz');
    await createArchiveFile(src, file);
    assert.deepEqual(await names(file), ['.pteroignore', 'keep.txt']);

    fs.unlinkSync(join(src, '.pteroignore'));
    fs.writeFileSync(join(src, '.pteroignore'), 'x\n'.repeat(20_000));
    const dest = join(t.path, 'big-ignore.tar.gz');
    await assert.rejects(createArchiveFile(src, dest), (err: unknown) => isAppError(err) && err.code === 'E_IGNORE_TOO_LARGE' && err.status === 400);
    await assert.rejects(createArchiveFile(src, dest, { ignore: Array.from({ length: 1001 }, (_, i) => `f${i}`).join('\n') }), (err: unknown) => isAppError(err) && err.code === 'E_IGNORE_TOO_LARGE');
    fs.unlinkSync(join(src, '.pteroignore'));
    await assert.rejects(createArchiveFile(src, dest, { ignore: Array.from({ length: 1001 }, (_, i) => `f${i}`).join('\n') }), (err: unknown) => isAppError(err) && err.code === 'E_IGNORE_TOO_MANY_PATTERNS');
    assert.deepEqual(fs.readdirSync(t.path).filter((n) => n.startsWith('big-ignore')), [], 'no temporary file left behind');
  } finally {
    await t.cleanup();
  }
});

test('levels, checksums and determinism', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    buildTree(src);
    fs.writeFileSync(join(src, 'text.txt'), 'the quick brown fox jumps over the lazy dog\n'.repeat(50_000));
    const sizes: Record<string, number> = {};
    for (const level of ['none', 'best_speed', 'best_compression', 5] as const) {
      const file = join(t.path, `l-${level}.tar.gz`);
      const r = await createArchiveFile(src, file, { level, checksum: 'sha1' });
      const bytes = fs.readFileSync(file);
      assert.equal(r.checksum, createHash('sha1').update(bytes).digest('hex'));
      assert.equal(r.size, bytes.length);
      assert.ok(gunzipSync(bytes).length > 0);
      sizes[String(level)] = r.size;
    }
    assert.ok(sizes.none! > sizes.best_speed! && sizes.best_speed! >= sizes.best_compression!, JSON.stringify(sizes));
    const a = await createArchiveFile(src, join(t.path, 'd1.tar.gz'));
    const b = await createArchiveFile(src, join(t.path, 'd2.tar.gz'));
    assert.equal(a.checksum, b.checksum, 'same tree, same bytes');
    assert.equal(a.checksum, createHash('sha256').update(fs.readFileSync(join(t.path, 'd1.tar.gz'))).digest('hex'));
    await assert.rejects(createArchiveFile(src, join(t.path, 'bad.tar.gz'), { level: 12 }), (err: unknown) => isAppError(err) && err.code === 'E_ARCHIVE_LEVEL' && err.status === 400);
    await assert.rejects(createArchiveFile(join(t.path, 'missing'), join(t.path, 'bad.tar.gz')), (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ROOT');
  } finally {
    await t.cleanup();
  }
});

test('a file that shrank is zero-padded and one that grew is cut at its header size', async () => {
  const t = await tempDir();
  try {
    const f = join(t.path, 'f.bin');
    fs.writeFileSync(f, Buffer.alloc(1000, 0x61));
    const collected: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => collected.push(c));
    const sink = new OutputSink(out, { checksum: 'sha256' });
    const gz = new ParallelGzip(sink, 1, 3);
    const tar = new TarProducer(gz);
    const fd = fs.openSync(f, 'r');
    try {
      await tar.header({ name: 'shrank.bin', type: 0x30, mode: 0o644, uid: 0, gid: 0, size: 1500, mtime: 0 });
      assert.equal(await tar.content(fd, 1500), 1000); // header promised 1500, file has 1000
      await tar.header({ name: 'grew.bin', type: 0x30, mode: 0o644, uid: 0, gid: 0, size: 600, mtime: 0 });
      assert.equal(await tar.content(fd, 600), 600); // file has 1000, header promised 600
    } finally {
      fs.closeSync(fd);
    }
    await tar.end();
    await sink.finish();
    const archive = Buffer.concat(collected);
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    const r = await extractArchive(PassThrough.from([archive]), dst);
    assert.equal(r.files, 2);
    const shrank = fs.readFileSync(join(dst, 'shrank.bin'));
    assert.deepEqual(shrank, Buffer.concat([Buffer.alloc(1000, 0x61), Buffer.alloc(500)]));
    assert.deepEqual(fs.readFileSync(join(dst, 'grew.bin')), Buffer.alloc(600, 0x61));
    assert.equal((await verifyArchive(PassThrough.from([archive]))).entries, 2);
  } finally {
    await t.cleanup();
  }
});

test('progress is reported and cancellation stops create and extract cleanly', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 12; i++) fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20));
    const seen: ArchiveProgress[] = [];
    const file = join(t.path, 'ok.tar.gz');
    const r = await createArchiveFile(src, file, { onProgress: (p) => seen.push(p) });
    assert.ok(seen.length >= 1);
    const last = seen[seen.length - 1]!;
    assert.equal(last.bytesRead, r.bytesRead);
    assert.equal(last.filesDone, 12);
    assert.equal(r.bytesRead, 12 << 20);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesRead >= seen[i - 1]!.bytesRead);

    // abort while running: slow the output so the abort lands mid-archive
    const ac = new AbortController();
    const dest = join(t.path, 'aborted.tar.gz');
    const p = createArchiveFile(src, dest, { signal: ac.signal, writeLimit: 2 << 20 });
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(p, (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED' && err.name === 'AbortError');
    assert.deepEqual(fs.readdirSync(t.path).filter((n) => n.startsWith('aborted')), [], 'nothing left behind');

    // abort an extraction
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    const ac2 = new AbortController();
    const extractProgress: ArchiveProgress[] = [];
    const p2 = extractArchive(fs.createReadStream(file), dst, {
      signal: ac2.signal,
      readLimit: 4 << 20,
      onProgress: (pr) => extractProgress.push(pr),
    });
    setTimeout(() => ac2.abort(), 400);
    await assert.rejects(p2, (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED' && err.partial !== undefined);

    const already = new AbortController();
    already.abort();
    await assert.rejects(createArchive(src, new PassThrough(), { signal: already.signal }), (err: unknown) => err instanceof ArchiveError && err.code === 'E_ARCHIVE_ABORTED');
  } finally {
    await t.cleanup();
  }
});

test('a slow consumer gets bounded buffering (backpressure end to end)', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 24; i++) fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20));
    let maxBuffered = 0;
    let total = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        maxBuffered = Math.max(maxBuffered, this.writableLength);
        setTimeout(cb, 1);
      },
    });
    const r = await createArchive(src, slow);
    assert.equal(total, r.size);
    assert.ok(r.size > 24 << 20);
    // one framed member (~1 MiB) may sit in the buffer; never the archive
    assert.ok(maxBuffered <= 2.5 * (1 << 20), `buffered ${maxBuffered} bytes`);
  } finally {
    await t.cleanup();
  }
});

test('an output stream failure rejects and nothing is left behind', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(1 << 20));
    let n = 0;
    const failing = new Writable({
      write(_c, _e, cb) {
        if (++n === 2) cb(new Error('disk on fire'));
        else cb();
      },
    });
    await assert.rejects(createArchive(src, failing), (err: unknown) => err instanceof ArchiveError && /disk on fire/.test(err.message));
    assert.ok(failing.destroyed);
    // createArchiveFile into a missing directory
    await assert.rejects(createArchiveFile(src, join(t.path, 'no/such/dir/x.tar.gz')));
  } finally {
    await t.cleanup();
  }
});
