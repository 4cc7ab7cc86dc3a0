import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  buildIndex,
  createArchiveFile,
  decodeIndex,
  fileSource,
  IndexCorruptError,
  IndexMismatchError,
  IndexView,
  readIndexedFile,
  readIndexedTar,
} from '../../src/archive/index.ts';
import { mustRun, randomBytes, tempDir } from './helpers.ts';

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

/** A tree over several 1 MiB members: 3 MiB of incompressible filler, a 1 MiB target, a long name, a link. */
function makeTree(src: string): { target: Buffer; longName: string } {
  fs.mkdirSync(join(src, 'world/region'), { recursive: true });
  fs.mkdirSync(join(src, 'plugins/cfg'), { recursive: true });
  fs.mkdirSync(join(src, 'empty'));
  for (let i = 0; i < 3; i++) fs.writeFileSync(join(src, `world/region/r.${i}.mca`), randomBytes(1 << 20));
  const target = randomBytes(1 << 20);
  fs.writeFileSync(join(src, 'world/region/target.dat'), target);
  const longName = `${'d'.repeat(120)}.yml`;
  fs.writeFileSync(join(src, 'plugins/cfg', longName), 'long: true\n');
  fs.writeFileSync(join(src, 'plugins/a.yml'), 'a: 1\n');
  fs.symlinkSync('a.yml', join(src, 'plugins/link.yml'));
  return { target, longName };
}

test('the index is written in the same pass and reads one file from the members that hold it', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    const { target, longName } = makeTree(src);
    const file = join(t.path, 'a.tar.gz');
    const r = await createArchiveFile(src, file, { index: true });
    assert.ok(r.index, 'the create result carries the index');
    const ix = decodeIndex(r.index);
    assert.equal(ix.archiveSize, r.size);
    assert.equal(ix.memberOffsets.at(-1), r.size);
    assert.equal(ix.memberOffsets.length - 1, Math.ceil((ix.tarEnd + 1024) / ix.slice));
    const view = new IndexView(ix);
    const names = [...view.all()].map((e) => e.path);
    // The same entries as GNU tar lists, without trailing slashes.
    const gnu = mustRun('tar', ['-tzf', file]).trim().split('\n').map((n) => n.replace(/\/$/, ''));
    assert.deepEqual(names, gnu);
    const t1 = view.get('world/region/target.dat')!;
    assert.equal(t1.type, 'file');
    assert.equal(t1.size, 1 << 20);
    assert.equal(view.get('plugins/link.yml')!.linkname, 'a.yml');
    assert.equal(view.get('empty')!.type, 'dir');
    assert.deepEqual(view.list('plugins').map((e) => e.path), ['plugins/cfg', 'plugins/a.yml', 'plugins/link.yml']);
    // Compact: well under 64 bytes per entry plus its name.
    const nameBytes = names.reduce((n, p) => n + p.length, 0);
    assert.ok(r.index.length < names.length * 64 + nameBytes, `index is ${r.index.length} bytes`);

    const counter = { bytes: 0 };
    const { picks } = view.select(['world/region/target.dat']);
    const got = await collect(readIndexedFile(fileSource(file, counter), ix, picks[0]!));
    assert.ok(got.equals(target), 'the file comes back byte for byte');
    // Only the members holding it: its 1 MiB (incompressible) plus at most one member on either side.
    assert.ok(counter.bytes <= (1 << 20) + 2 * (1 << 20) + 4096, `read ${counter.bytes} bytes of ${r.size}`);
    assert.ok(counter.bytes < r.size * 0.75, `read ${counter.bytes} of ${r.size}`);

    const small = await collect(readIndexedFile(fileSource(file), ix, view.select([`plugins/cfg/${longName}`]).picks[0]!));
    assert.equal(small.toString(), 'long: true\n');

    // A folder as a tar of just that subtree, which GNU tar reads.
    const sub = await collect(readIndexedTar(fileSource(file), ix, view.select(['plugins']).picks));
    const listed = mustRun('tar', ['-tf', '-'], { input: sub }).trim().split('\n');
    assert.deepEqual(listed, ['plugins/', 'plugins/a.yml', 'plugins/cfg/', `plugins/cfg/${longName}`, 'plugins/link.yml']);
    assert.deepEqual(view.select(['nope', 'plugins/a.yml']).missing, ['nope']);
  } finally {
    await t.cleanup();
  }
});

test('a damaged index is refused whole, and an index that disagrees with the archive fails the read', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    makeTree(src);
    const file = join(t.path, 'a.tar.gz');
    const r = await createArchiveFile(src, file, { index: true });
    const good = r.index!;
    const flipped = Buffer.from(good);
    flipped[flipped.length - 12] ^= 0xff;
    assert.throws(() => decodeIndex(flipped), IndexCorruptError);
    assert.throws(() => decodeIndex(good.subarray(0, good.length - 5)), IndexCorruptError);
    assert.throws(() => decodeIndex(Buffer.from('not an index')), IndexCorruptError);
    const future = Buffer.from(good);
    future[4] = 99;
    assert.throws(() => decodeIndex(future), /unknown version 99/);

    // The index of another tree, read against this archive: the header found is not the one expected.
    const other = join(t.path, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(join(other, 'x.txt'), 'x');
    fs.writeFileSync(join(other, 'y.txt'), 'y'.repeat(5000));
    const wrong = decodeIndex((await createArchiveFile(other, join(t.path, 'o.tar.gz'), { index: true })).index!);
    const view = new IndexView(wrong);
    await assert.rejects(collect(readIndexedFile(fileSource(file), wrong, view.select(['y.txt']).picks[0]!)), IndexMismatchError);
  } finally {
    await t.cleanup();
  }
});

test('an archive without an index (GNU tar, one gzip member) gets one by a streaming pass, read from the start', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    makeTree(src);
    const file = join(t.path, 'gnu.tar.gz');
    mustRun('tar', ['-czf', file, '-C', src, '.']);
    const size = fs.statSync(file).size;
    const ix = decodeIndex(await buildIndex(fileSource(file), size));
    assert.equal(ix.slice, 0);
    const view = new IndexView(ix);
    assert.ok(view.get('plugins/a.yml'));
    assert.ok(view.isDirectory('world/region'));
    const a = await collect(readIndexedFile(fileSource(file), ix, view.select(['plugins/a.yml']).picks[0]!));
    assert.equal(a.toString(), 'a: 1\n');
    const target = await collect(readIndexedFile(fileSource(file), ix, view.select(['world/region/target.dat']).picks[0]!));
    assert.ok(target.equals(fs.readFileSync(join(src, 'world/region/target.dat'))));
    // The tar of a subtree is a valid tar on its own.
    const sub = await collect(readIndexedTar(fileSource(file), ix, view.select(['world']).picks));
    assert.ok(gunzipSync(fs.readFileSync(file)).length > sub.length);
    assert.match(mustRun('tar', ['-tf', '-'], { input: sub }), /world\/region\/target\.dat/);
  } finally {
    await t.cleanup();
  }
});
