import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractArchive } from '../../src/archive/index.ts';
import { extractTestHooks, extractTuning } from '../../src/archive/extract.ts';
import { NATIVE_SMALL_FILE_MAX } from '../../src/archive/extract-actions.ts';
import { buildTarGz, type RawEntry } from './tar-builder.ts';
import { randomBytes, tempDir } from './helpers.ts';

/** Entries whose outcome depends on archive order: a later copy wins, a file blocks a path below it, a link needs its target. */
const ORDER_CASES: RawEntry[] = [
  { name: 'dup.txt', data: 'first' },
  { name: 'dup.txt', data: 'second' },
  { name: 'plain', data: 'I am a file' },
  { name: 'plain/below.txt', data: 'cannot exist' },
  { name: 'target.txt', data: 'shared' },
  { name: 'hard', type: 'hardlink', linkname: 'target.txt' },
];

// Small files on the main thread (the default below `writerAfter`): the outcome equals in-order extraction.
test('concurrent small-file writes keep archive order semantics', async () => {
  const t = await tempDir();
  try {
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    fs.writeFileSync(join(dst, 'existing.txt'), 'a much longer previous content that must disappear');
    const many: RawEntry[] = Array.from({ length: 300 }, (_, i) => ({ name: `many/f${i}.json`, data: `{"i":${i}}` }));
    const big = randomBytes(NATIVE_SMALL_FILE_MAX + 12345); // above the batched size: streamed by the main thread
    const mid = randomBytes((1 << 20) + 12345); // several inflated chunks, still written whole in a batch
    const r = await extractArchive(
      Readable.from([
        buildTarGz([
          ...many,
          ...ORDER_CASES,
          { name: 'becomes-link', data: 'file first' },
          { name: 'becomes-link', type: 'symlink', linkname: 'target.txt' },
          { name: 'existing.txt', data: 'short' },
          { name: 'mid.bin', data: mid },
          { name: 'big.bin', data: big },
          { name: 'big.bin', data: 'small again' },
          { name: 'many', type: 'dir', mode: 0o750, mtime: 1_500_000_000 },
        ]),
      ]),
      dst,
    );
    for (let i = 0; i < 300; i++) assert.equal(fs.readFileSync(join(dst, `many/f${i}.json`), 'utf8'), `{"i":${i}}`);
    assert.equal(fs.readFileSync(join(dst, 'dup.txt'), 'utf8'), 'second');
    assert.deepEqual(r.skipped, [{ name: 'plain/below.txt', reason: 'plain is not a directory' }]);
    assert.equal(fs.readFileSync(join(dst, 'hard'), 'utf8'), 'shared');
    assert.equal(fs.statSync(join(dst, 'hard')).ino, fs.statSync(join(dst, 'target.txt')).ino);
    assert.equal(fs.readlinkSync(join(dst, 'becomes-link')), 'target.txt');
    assert.equal(fs.readFileSync(join(dst, 'existing.txt'), 'utf8'), 'short');
    assert.equal(fs.readFileSync(join(dst, 'big.bin'), 'utf8'), 'small again');
    assert.deepEqual(fs.readFileSync(join(dst, 'mid.bin')), mid);
    const st = fs.statSync(join(dst, 'many'));
    assert.equal(st.mode & 0o777, 0o750);
    assert.equal(Math.floor(st.mtimeMs / 1000), 1_500_000_000, 'directory mtime set after its contents');
    assert.equal(r.files, 300 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 2); // many, dup×2, plain, target, hard, becomes-link(file), existing, mid, big×2
    assert.equal(r.symlinks, 1);
  } finally {
    await t.cleanup();
  }
});

test('owner option gives every restored entry the configured uid/gid', async () => {
  const t = await tempDir();
  try {
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    // root can hand files to anyone; otherwise only our own ids are allowed
    const isRoot = process.getuid?.() === 0;
    const owner = isRoot ? { uid: 4321, gid: 4322 } : { uid: process.getuid!(), gid: process.getgid!() };
    await extractArchive(
      Readable.from([
        buildTarGz([
          { name: 'd/', type: 'dir' },
          { name: 'd/small.txt', data: 'x' },
          { name: 'implicit/parent/big.bin', data: randomBytes(NATIVE_SMALL_FILE_MAX + 1) },
          { name: 'd/link', type: 'symlink', linkname: 'small.txt' },
        ]),
      ]),
      dst,
      { owner },
    );
    for (const rel of ['d', 'd/small.txt', 'implicit', 'implicit/parent', 'implicit/parent/big.bin', 'd/link']) {
      const st = fs.lstatSync(join(dst, rel));
      assert.equal(st.uid, owner.uid, rel);
      assert.equal(st.gid, owner.gid, rel);
    }
  } finally {
    await t.cleanup();
  }
});

// Past `writerAfter` small files, small files go to the writer thread in batches; entries that
// depend on queued files (same path, a path below a queued file, links) must still see them.
test('with the writer thread: archive order semantics, refusals and counts are the same', async () => {
  const t = await tempDir();
  const saved = extractTuning.writerAfter;
  extractTuning.writerAfter = 50;
  extractTestHooks.waitForWriter = true;
  let byWriter = 0;
  extractTestHooks.onWriterResult = () => byWriter++;
  try {
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    fs.writeFileSync(join(dst, 'existing.txt'), 'a much longer previous content that must disappear');
    fs.symlinkSync('/etc/passwd', join(dst, 'was-link'));
    const many: RawEntry[] = Array.from({ length: 3000 }, (_, i) => ({ name: `many/d${i % 7}/f${i}.json`, data: `{"i":${i}}`, mode: i % 2 ? 0o644 : 0o600 }));
    const r = await extractArchive(
      Readable.from([
        buildTarGz([
          ...many,
          ...ORDER_CASES,
          { name: 'existing.txt', data: 'short' },
          { name: 'was-link', data: 'a file now' },
          { name: 'setuid', data: 'x', mode: 0o4755 },
          { name: 'many', type: 'dir', mode: 0o750, mtime: 1_500_000_000 },
        ]),
      ]),
      dst,
    );
    for (let i = 0; i < 3000; i++) {
      const p = join(dst, `many/d${i % 7}/f${i}.json`);
      assert.equal(fs.readFileSync(p, 'utf8'), `{"i":${i}}`);
      assert.equal(fs.statSync(p).mode & 0o777, i % 2 ? 0o644 : 0o600);
    }
    assert.equal(fs.readFileSync(join(dst, 'dup.txt'), 'utf8'), 'second');
    assert.deepEqual(r.skipped, [{ name: 'plain/below.txt', reason: 'plain is not a directory' }]);
    assert.equal(fs.statSync(join(dst, 'hard')).ino, fs.statSync(join(dst, 'target.txt')).ino);
    assert.equal(fs.readFileSync(join(dst, 'existing.txt'), 'utf8'), 'short');
    assert.ok(fs.lstatSync(join(dst, 'was-link')).isFile(), 'the link was replaced, not written through');
    assert.equal(fs.readFileSync(join(dst, 'was-link'), 'utf8'), 'a file now');
    assert.equal(fs.statSync(join(dst, 'setuid')).mode & 0o7777, 0o755, 'setuid stripped');
    assert.equal(Math.floor(fs.statSync(join(dst, 'many')).mtimeMs / 1000), 1_500_000_000);
    assert.equal(r.files, 3000 + 2 + 1 + 1 + 1 + 1 + 1 + 1);
    assert.ok(byWriter >= 2900, `the writer thread wrote the small files (${byWriter})`);
    assert.equal(r.bytesWritten, many.reduce((n, e) => n + Buffer.byteLength(e.data as string), 0) + 5 + 6 + 11 + 6 + 5 + 10 + 1);
  } finally {
    extractTuning.writerAfter = saved;
    delete extractTestHooks.waitForWriter;
    delete extractTestHooks.onWriterResult;
    await t.cleanup();
  }
});
