import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createArchive } from '../../src/archive/create.ts';
import { extractArchive, extractTestHooks, extractTuning } from '../../src/archive/extract.ts';
import { nativeFs, nativeFsTuning, READ_FIELDS, type NativeFs } from '../../src/archive/native-fs.ts';
import { TarParser } from '../../src/archive/tar-parser.ts';
import { mustRun, tempDir } from './helpers.ts';
import { buildTar, buildTarGz, type RawEntry } from './tar-builder.ts';

// `npm ci` builds the addon (npm run build:native); a checkout where it did not build fails here
// loudly instead of silently testing only the JavaScript path.
function addon(): NativeFs {
  const nfs = nativeFs();
  assert.ok(nfs, 'the native addon (native/build/Release/backwing_fs.node) is built and loads');
  return nfs;
}

const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

test('writeFiles: creates in the held directory with the mode (setuid/setgid dropped) and mtime, and stops untouched at a name that exists or is not a plain component', async () => {
  const nfs = addon();
  const t = await tempDir();
  const dirfd = fs.openSync(t.path, O_DIR);
  try {
    fs.writeFileSync(join(t.path, 'exists'), 'precious');
    fs.symlinkSync('/etc/passwd', join(t.path, 'link'));
    const data = Buffer.from('aaabbbbcc');
    const names = ['a', 'b', 'exists', 'c', 'link', 'x/y', '..'];
    // dir index, mode, mtime, offset, length
    const meta = new Float64Array([0, 0o644, 1_500_000_000, 0, 3, 0, 0o6755, 1_600_000_000.5, 3, 4, 0, 0o644, 1, 7, 2, 0, 0o600, 1, 7, 2, 0, 0o644, 1, 0, 1, 0, 0o644, 1, 0, 1, 0, 0o644, 1, 0, 1]);
    assert.equal(nfs.writeFiles(dirfd, names, meta, 0, names.length, data, process.umask(), -1, -1), 2, 'stopped at the existing name');
    assert.equal(fs.readFileSync(join(t.path, 'a'), 'utf8'), 'aaa');
    assert.equal(fs.statSync(join(t.path, 'a')).mode & 0o7777, 0o644);
    assert.equal(fs.statSync(join(t.path, 'a')).mtimeMs, 1_500_000_000_000);
    assert.equal(fs.readFileSync(join(t.path, 'b'), 'utf8'), 'bbbb');
    assert.equal(fs.statSync(join(t.path, 'b')).mode & 0o7777, 0o755, 'setuid and setgid dropped');
    assert.equal(fs.statSync(join(t.path, 'b')).mtimeMs, 1_600_000_000_500);
    assert.equal(fs.readFileSync(join(t.path, 'exists'), 'utf8'), 'precious', 'an existing file is left to the JavaScript path');
    assert.equal(nfs.writeFiles(dirfd, names, meta, 3, names.length, data, process.umask(), -1, -1), 4, 'stopped at the symlink, not followed');
    assert.equal(fs.readlinkSync(join(t.path, 'link')), '/etc/passwd');
    assert.equal(fs.readFileSync(join(t.path, 'c'), 'utf8'), 'cc');
    assert.equal(nfs.writeFiles(dirfd, names, meta, 5, names.length, data, process.umask(), -1, -1), 5, 'a name with a slash is not a component');
    assert.equal(nfs.writeFiles(dirfd, names, meta, 6, names.length, data, process.umask(), -1, -1), 6, '".." is not a component');
    assert.deepEqual(fs.readdirSync(t.path).sort(), ['a', 'b', 'c', 'exists', 'link']);
  } finally {
    fs.closeSync(dirfd);
    await t.cleanup();
  }
});

test('writeBatch: writes each file from its buffer and offset, in order, reuses a plain existing file in place, and stops untouched at a link, a directory, a shared inode or a bad row', async () => {
  const nfs = addon();
  const t = await tempDir();
  const dirfd = fs.openSync(t.path, O_DIR);
  try {
    fs.writeFileSync(join(t.path, 'old'), 'a much longer previous content');
    fs.chmodSync(join(t.path, 'old'), 0o600);
    const oldIno = fs.statSync(join(t.path, 'old')).ino;
    fs.symlinkSync('/etc/passwd', join(t.path, 'link'));
    fs.mkdirSync(join(t.path, 'dir'));
    fs.writeFileSync(join(t.path, 'shared'), 'shared');
    fs.linkSync(join(t.path, 'shared'), join(t.path, 'shared2'));
    const one = Buffer.from('xxAAAyy');
    const two = Buffer.from('BBBB');
    const names = ['a', 'old', 'link', 'b', 'dir', 'shared', 'c', 'bad'];
    // dir index, mode, mtime, buf index, offset, length
    const rows = [
      [0, 0o644, 1_500_000_000, 0, 2, 3],
      [0, 0o4751, 1_500_000_001, 1, 0, 4],
      [0, 0o644, 1, 1, 0, 1],
      [0, 0o640, 1_600_000_000.5, 1, 1, 2],
      [0, 0o644, 1, 1, 0, 1],
      [0, 0o644, 1, 1, 0, 1],
      [0, 0o644, 1, 2, 0, 0],
      [0, 0o644, 1, 1, 2, 3],
    ];
    const meta = new Float64Array(rows.flat());
    const bufs = [one, two, new Uint8Array(0)];
    const dirs = Int32Array.from([dirfd]);
    const write = (from: number) => nfs.writeBatch(dirs, names.join('/'), meta, bufs, from, names.length, process.umask(), -1, -1);
    assert.equal(await write(0), 2, 'stopped at the symlink');
    assert.equal(fs.readFileSync(join(t.path, 'a'), 'utf8'), 'AAA', 'bytes taken at their offset in the buffer');
    assert.equal(fs.statSync(join(t.path, 'a')).mtimeMs, 1_500_000_000_000);
    assert.equal(fs.readFileSync(join(t.path, 'old'), 'utf8'), 'BBBB', 'an existing plain file truncated and rewritten');
    assert.equal(fs.statSync(join(t.path, 'old')).ino, oldIno, 'in place');
    assert.equal(fs.statSync(join(t.path, 'old')).mode & 0o7777, 0o751, 'its mode set, setuid dropped');
    assert.equal(fs.readlinkSync(join(t.path, 'link')), '/etc/passwd', 'the link is left to the JavaScript path');
    assert.equal(await write(3), 4, 'stopped at the directory');
    assert.equal(fs.readFileSync(join(t.path, 'b'), 'utf8'), 'BB');
    assert.equal(fs.statSync(join(t.path, 'b')).mode & 0o7777, 0o640);
    assert.equal(await write(5), 5, 'a file with two links is never written through');
    assert.equal(fs.readFileSync(join(t.path, 'shared2'), 'utf8'), 'shared');
    assert.equal(await write(6), 7, 'an empty file is written; a row running past its buffer stops the run');
    assert.equal(fs.readFileSync(join(t.path, 'c'), 'utf8'), '');
    assert.ok(!fs.existsSync(join(t.path, 'bad')));
    assert.equal(await nfs.writeBatch(dirs, 'x/../y', meta, bufs, 1, 3, process.umask(), -1, -1), 1, '".." is not a name');
    assert.equal(await nfs.writeBatch(dirs, 'x/', meta, bufs, 1, 2, process.umask(), -1, -1), 1, 'an empty name is not a name');
    assert.ok(!fs.existsSync(join(t.path, 'x')), 'a name after the run that stopped is not written');
    const dup = nfs.dupFd(dirfd);
    assert.ok(dup > dirfd && fs.fstatSync(dup).ino === fs.fstatSync(dirfd).ino, 'dupFd: the same directory');
    fs.closeSync(dup);
  } finally {
    fs.closeSync(dirfd);
    await t.cleanup();
  }
});

/** Every entry and every byte the parser hands out, in order, as one string. */
function parsed(tar: Buffer, chunk: number, native: boolean): string {
  nativeFsTuning.enabled = native;
  const seen: string[] = [];
  try {
    const p = new TarParser({
      onEntry(e) {
        seen.push(JSON.stringify(e));
        return { write: (c) => seen.push(c.toString('hex')), end: () => seen.push('end') };
      },
    });
    for (let i = 0; i < tar.length; i += chunk) p.push(tar.subarray(i, i + chunk));
    p.end();
  } catch (err) {
    seen.push(`error ${(err as Error).message}`);
  } finally {
    nativeFsTuning.enabled = true;
  }
  return seen.join('\n');
}

test('scanHeaders: the tar parser yields the same entries, bytes and errors with and without it, at every chunking (GNU long names, PAX, raw names, links, a bad checksum)', async () => {
  const nfs = addon();
  const t = await tempDir();
  try {
    sampleTree(join(t.path, 'ours'));
    const gnuSrc = join(t.path, 'gnu');
    fs.mkdirSync(join(gnuSrc, 'd'.repeat(120)), { recursive: true });
    fs.writeFileSync(join(gnuSrc, 'd'.repeat(120), 'f'.repeat(110)), 'long');
    fs.writeFileSync(join(gnuSrc, 'héllo'), 'utf-8 name');
    fs.symlinkSync('l'.repeat(120), join(gnuSrc, 'longlink'));
    for (let i = 0; i < 50; i++) fs.writeFileSync(join(gnuSrc, `p${i}`), 'x'.repeat(i * 37));
    const ours = await tarOf(join(t.path, 'ours'));
    mustRun('tar', ['--format=gnu', '-cf', join(t.path, 'gnu.tar'), '-C', gnuSrc, '.']);
    const gnu = fs.readFileSync(join(t.path, 'gnu.tar'));
    const plain = buildTar(Array.from({ length: 40 }, (_, i) => ({ name: `cfg/f${i}.json`, data: 'y'.repeat(i * 13), mode: 0o640, mtime: 1_600_000_000 + i })));
    const corrupt = Buffer.from(plain);
    // A name byte of the 20th header: its checksum no longer matches.
    const offsets: number[] = [];
    new TarParser({ onEntry: (e) => (offsets.push(e.offset), null) }).push(plain);
    corrupt[offsets[20]! + 3]! ^= 0x20;
    const out = new Float64Array(256 * 10);
    const n = nfs.scanHeaders(plain, 0, out, 256);
    assert.ok(n >= 30, `the plain entries are decoded by the addon (${n})`);
    assert.deepEqual(Array.from(out.subarray(0, 10)), [0, 0x30, 0o640, 0, 0, 0, 1_600_000_000, 'cfg/f0.json'.length, 0, 0]);
    assert.equal(nfs.scanHeaders(plain, plain.length - 1024, out, 256), 0, 'the end-of-archive zero blocks are left to the parser');
    for (const [label, tar] of [['ours', ours], ['gnu', gnu], ['plain', plain], ['corrupt', corrupt]] as const) {
      for (const chunk of [1 << 20, 4096, 1000, 512]) {
        const js = parsed(tar, chunk, false);
        assert.equal(parsed(tar, chunk, true), js, `${label} in chunks of ${chunk}`);
        if (label === 'corrupt') assert.match(js, /error bad tar header checksum at offset/);
      }
    }
  } finally {
    await t.cleanup();
  }
});

test('readFiles: sizes, modes and mtimes from fstat; links, FIFOs, big and vanished files left to the walk; stops when the buffer is full', async () => {
  const nfs = addon();
  const t = await tempDir();
  try {
    fs.writeFileSync(join(t.path, 'a'), 'hello');
    fs.chmodSync(join(t.path, 'a'), 0o640);
    fs.utimesSync(join(t.path, 'a'), 1_500_000_000, 1_500_000_000);
    fs.writeFileSync(join(t.path, 'big'), Buffer.alloc(5000, 1));
    fs.symlinkSync('a', join(t.path, 'link'));
    fs.writeFileSync(join(t.path, 'z'), 'zz');
    const names = ['a', 'big', 'link', 'gone', 'z'];
    const out = new Float64Array(names.length * READ_FIELDS);
    const buf = Buffer.alloc(64);
    assert.equal(nfs.readFiles(t.path, names, 0, names.length, buf, 4096, out), names.length);
    assert.deepEqual(Array.from(out.subarray(0, READ_FIELDS)), [0, 0, 5, 5, 0o640, process.getuid!(), process.getgid!(), 1_500_000_000, 5]);
    assert.equal(buf.subarray(0, 5).toString(), 'hello');
    for (const i of [1, 2, 3]) assert.equal(out[i * READ_FIELDS], 1, `${names[i]} is left to the usual per-file code`);
    assert.equal(out[4 * READ_FIELDS], 0);
    assert.equal(buf.subarray(out[4 * READ_FIELDS + 1], out[4 * READ_FIELDS + 1]! + 2).toString(), 'zz');
    // Room for 'a' only: the call stops before 'z' and the caller comes back for it.
    assert.equal(nfs.readFiles(t.path, ['a', 'z'], 0, 2, Buffer.alloc(6), 4096, out), 1);
    assert.equal(nfs.readFiles(join(t.path, 'link'), names, 0, 1, buf, 4096, out), -1, 'a directory that is a symlink is not opened');
  } finally {
    await t.cleanup();
  }
});

test('gzipMember/gunzipMember: standard gzip members; a corrupt member is left to zlib', { skip: false }, async () => {
  const nfs = addon();
  assert.ok(nfs.libdeflate, 'libdeflate (Debian libdeflate0) is installed and found');
  const input = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(1000));
  const out = Buffer.alloc(input.length + 1024);
  const n = await nfs.gzipMember(input, out, 1);
  assert.ok(n > 0 && n < input.length / 10);
  assert.deepEqual(gunzipSync(out.subarray(0, n)), input, 'zlib reads it');
  const back = Buffer.alloc(input.length);
  assert.equal(await nfs.gunzipMember(out.subarray(0, n), back), 0);
  assert.deepEqual(back, input);
  const bad = Buffer.from(out.subarray(0, n));
  bad[n - 6]! ^= 1; // CRC32
  assert.ok((await nfs.gunzipMember(bad, Buffer.alloc(input.length))) < 0, 'a CRC mismatch is refused');
  assert.ok((await nfs.gunzipMember(out.subarray(0, n), Buffer.alloc(input.length + 1))) < 0, 'a length that differs from the header is refused');
  assert.equal(await nfs.gzipMember(input, Buffer.alloc(16), 1), 0, 'no room: 0, and the caller uses zlib');
});

function sampleTree(root: string): void {
  for (let i = 0; i < 400; i++) {
    const dir = join(root, `cfg/d${i % 9}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, `f${i}.json`), `{"i":${i}}`.repeat(i % 50));
    fs.chmodSync(join(dir, `f${i}.json`), i % 3 ? 0o644 : 0o600);
  }
  fs.writeFileSync(join(root, 'big.bin'), Buffer.alloc(300_000, 7));
  fs.symlinkSync('cfg/d1', join(root, 'link'));
  fs.writeFileSync(join(root, Buffer.from([0x6e, 0xff, 0x2e, 0x74]).toString('latin1')), 'latin1 name');
}

async function tarOf(root: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const { Writable } = await import('node:stream');
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  await createArchive(root, sink);
  return gunzipSync(Buffer.concat(chunks));
}

test('create: the same tar stream with the addon (batched reads, libdeflate) and with the JavaScript path', async () => {
  addon();
  const t = await tempDir();
  try {
    sampleTree(t.path);
    const native = await tarOf(t.path);
    nativeFsTuning.enabled = false;
    const js = await tarOf(t.path).finally(() => (nativeFsTuning.enabled = true));
    assert.ok(native.length > 400 * 512);
    assert.ok(native.equals(js), 'identical tar streams');
  } finally {
    await t.cleanup();
  }
});

test('extract on the writer thread: the same result with the addon and with the JavaScript path (existing files, links, setuid)', async () => {
  addon();
  const t = await tempDir();
  const saved = extractTuning.writerAfter;
  extractTuning.writerAfter = 20;
  extractTestHooks.waitForWriter = true;
  let byWriter = 0;
  extractTestHooks.onWriterResult = () => byWriter++;
  try {
    const many: RawEntry[] = Array.from({ length: 600 }, (_, i) => ({ name: `d${i % 5}/f${i}`, data: `file ${i}`, mode: i % 7 ? 0o644 : 0o4755, mtime: 1_500_000_000 + i }));
    const archive = buildTarGz([...many, { name: 'd1/f1', data: 'again' }]);
    const results: string[] = [];
    for (const native of [true, false]) {
      nativeFsTuning.enabled = native;
      const dst = join(t.path, String(native));
      fs.mkdirSync(join(dst, 'd2'), { recursive: true });
      fs.writeFileSync(join(dst, 'd2/f2'), 'an older and longer content');
      fs.symlinkSync('/etc/passwd', join(dst, 'd2/f7'));
      byWriter = 0;
      const r = await extractArchive(Readable.from([archive]), dst);
      assert.ok(byWriter >= 500, `the writer thread wrote the files (${byWriter})`);
      const seen = many.map((e) => {
        const st = fs.lstatSync(join(dst, e.name));
        return `${e.name} ${st.isFile()} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${fs.readFileSync(join(dst, e.name), 'utf8')}`;
      });
      results.push(JSON.stringify({ files: r.files, bytes: r.bytesWritten, skipped: r.skipped, seen }));
      assert.equal(fs.readFileSync(join(dst, 'd2/f2'), 'utf8'), 'file 2', 'an existing file truncated in place');
      assert.ok(fs.lstatSync(join(dst, 'd2/f7')).isFile(), 'a link replaced, not written through');
      assert.equal(fs.statSync(join(dst, 'd0/f0')).mode & 0o7777, 0o755, 'setuid dropped');
      assert.equal(fs.readFileSync(join(dst, 'd1/f1'), 'utf8'), 'again');
    }
    assert.equal(results[0], results[1]);
  } finally {
    nativeFsTuning.enabled = true;
    extractTuning.writerAfter = saved;
    delete extractTestHooks.waitForWriter;
    delete extractTestHooks.onWriterResult;
    await t.cleanup();
  }
});
