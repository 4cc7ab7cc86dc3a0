import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ArchiveError, createArchive, extractArchive, type ExtractResult } from '../../src/archive/index.ts';
import { buildTar, buildTarGz, type RawEntry } from './tar-builder.ts';
import { randomBytes, tempDir } from './helpers.ts';

/** A target dir with a sentinel dir beside it; returns a checker that nothing appeared outside. */
async function arena() {
  const t = await tempDir('bw-hostile-');
  const target = join(t.path, 'target');
  const sentinel = join(t.path, 'sentinel');
  fs.mkdirSync(target);
  fs.mkdirSync(sentinel);
  fs.writeFileSync(join(sentinel, 'secret.txt'), 'do not touch');
  const before = fs.readdirSync(t.path).sort();
  const untouched = () => {
    assert.deepEqual(fs.readdirSync(t.path).sort(), before, 'nothing new beside the target');
    assert.deepEqual(fs.readdirSync(sentinel), ['secret.txt']);
    assert.equal(fs.readFileSync(join(sentinel, 'secret.txt'), 'utf8'), 'do not touch');
  };
  return { t, target, sentinel, untouched };
}

async function extract(buf: Buffer, target: string): Promise<ExtractResult> {
  return extractArchive(Readable.from([buf]), target);
}

test('traversal and absolute names are skipped with a reason', async () => {
  const a = await arena();
  try {
    const r = await extract(
      buildTarGz([
        { name: '../sentinel/evil.txt', data: 'x' },
        { name: 'ok/../../sentinel/evil2.txt', data: 'x' },
        { name: `${a.sentinel}/abs.txt`, data: 'x' },
        { name: '/tmp/bw-absolute-evil.txt', data: 'x' },
        { name: './fine.txt', data: 'fine' },
      ]),
      a.target,
    );
    assert.deepEqual(r.skipped.map((s) => s.reason), ['path contains a .. component', 'path contains a .. component', 'absolute path', 'absolute path']);
    assert.equal(fs.readFileSync(join(a.target, 'fine.txt'), 'utf8'), 'fine');
    assert.ok(!fs.existsSync('/tmp/bw-absolute-evil.txt'));
    a.untouched();
  } finally {
    await a.t.cleanup();
  }
});

test('symlink then write through it (archive-made and pre-existing links) is refused', async () => {
  const a = await arena();
  try {
    fs.symlinkSync(a.sentinel, join(a.target, 'preexisting'));
    fs.symlinkSync(join(a.sentinel, 'secret.txt'), join(a.target, 'secret-link'));
    const r = await extract(
      buildTarGz([
        { name: 'inroot', type: 'symlink', linkname: 'sub' },
        { name: 'sub/x.txt', data: 'in root' },
        { name: 'inroot/through.txt', data: 'x' }, // passes through an in-root link: still refused
        { name: 'escape', type: 'symlink', linkname: '../sentinel' },
        { name: 'escape/evil.txt', data: 'x' },
        { name: 'etc', type: 'symlink', linkname: '/etc' },
        { name: 'etc/evil', data: 'x' },
        { name: 'preexisting/evil.txt', data: 'x' },
        { name: 'preexisting/deeper/evil.txt', data: 'x' },
        { name: 'secret-link', data: 'replaced' }, // final component is a link: the link is replaced, target untouched
      ]),
      a.target,
    );
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.name, s.reason]));
    assert.match(reasons['inroot/through.txt']!, /symbolic link inroot/);
    assert.match(reasons.escape!, /leaves the target directory/);
    assert.match(reasons.etc!, /absolute/);
    // the refused links were never created, so these land as plain files inside the target
    assert.ok(fs.lstatSync(join(a.target, 'escape/evil.txt')).isFile());
    assert.ok(fs.lstatSync(join(a.target, 'etc/evil')).isFile());
    assert.match(reasons['preexisting/evil.txt']!, /symbolic link preexisting/);
    assert.match(reasons['preexisting/deeper/evil.txt']!, /symbolic link preexisting/);
    assert.equal(fs.readlinkSync(join(a.target, 'inroot')), 'sub');
    assert.equal(fs.readFileSync(join(a.target, 'sub/x.txt'), 'utf8'), 'in root');
    assert.ok(fs.lstatSync(join(a.target, 'secret-link')).isFile());
    assert.equal(fs.readFileSync(join(a.target, 'secret-link'), 'utf8'), 'replaced');
    a.untouched();
  } finally {
    await a.t.cleanup();
  }
});

test('hard links: outside or missing targets refused, in-root links created', async () => {
  const a = await arena();
  try {
    const r = await extract(
      buildTarGz([
        { name: 'real.txt', data: 'content' },
        { name: 'hl-ok', type: 'hardlink', linkname: 'real.txt' },
        { name: 'hl-out', type: 'hardlink', linkname: '../sentinel/secret.txt' },
        { name: 'hl-abs', type: 'hardlink', linkname: `${a.sentinel}/secret.txt` },
        { name: 'hl-missing', type: 'hardlink', linkname: 'nope.txt' },
        { name: 'lnk', type: 'symlink', linkname: 'real.txt' },
        { name: 'hl-to-link', type: 'hardlink', linkname: 'lnk' },
      ]),
      a.target,
    );
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.name, s.reason]));
    assert.match(reasons['hl-out']!, /outside/);
    assert.match(reasons['hl-abs']!, /outside/);
    assert.match(reasons['hl-missing']!, /does not exist/);
    assert.match(reasons['hl-to-link']!, /not a regular file/);
    assert.equal(fs.statSync(join(a.target, 'hl-ok')).ino, fs.statSync(join(a.target, 'real.txt')).ino);
    // writing over a hard-linked name replaces the name, never the shared inode
    await extract(buildTarGz([{ name: 'hl-ok', data: 'new' }]), a.target);
    assert.equal(fs.readFileSync(join(a.target, 'real.txt'), 'utf8'), 'content');
    assert.equal(fs.readFileSync(join(a.target, 'hl-ok'), 'utf8'), 'new');
    a.untouched();
  } finally {
    await a.t.cleanup();
  }
});

test('devices and FIFOs are never created; setuid/setgid bits are dropped', async () => {
  const a = await arena();
  try {
    const r = await extract(
      buildTarGz([
        { name: 'null', type: 'char' },
        { name: 'disk', type: 'block' },
        { name: 'pipe', type: 'fifo' },
        { name: 'suid', data: '#!/bin/sh\n', mode: 0o6755 },
        { name: 'sticky-dir', type: 'dir', mode: 0o1777 },
      ]),
      a.target,
    );
    assert.deepEqual(r.skipped.map((s) => s.name), ['null', 'disk', 'pipe']);
    assert.match(r.skipped[0]!.reason, /character device/);
    assert.match(r.skipped[2]!.reason, /FIFO/);
    assert.deepEqual(fs.readdirSync(a.target).sort(), ['sticky-dir', 'suid']);
    assert.equal(fs.statSync(join(a.target, 'suid')).mode & 0o7777, 0o755);
    assert.equal(fs.statSync(join(a.target, 'sticky-dir')).mode & 0o7777, 0o1777);
    a.untouched();
  } finally {
    await a.t.cleanup();
  }
});

async function expectFailure(buf: Buffer, target: string, code: string, message: RegExp): Promise<ArchiveError> {
  let caught: unknown;
  try {
    await extract(buf, target);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ArchiveError, `expected ArchiveError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  assert.ok(caught.partial, 'partial result attached');
  return caught;
}

async function ourArchive(files: RawEntry[]): Promise<Buffer> {
  const t = await tempDir('bw-src-');
  try {
    for (const f of files) fs.writeFileSync(join(t.path, f.name), f.data ?? '');
    const chunks: Buffer[] = [];
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    out.on('data', (c: Buffer) => chunks.push(c));
    await createArchive(t.path, out);
    return Buffer.concat(chunks);
  } finally {
    await t.cleanup();
  }
}

test('truncated, corrupt and garbage inputs fail with a clear error and a partial report', async () => {
  const a = await arena();
  try {
    const big = randomBytes(3 << 20);
    const ours = await ourArchive([{ name: 'a-first.txt', data: 'first' }, { name: 'b-big.bin', data: big }]);

    // truncated in the middle of the second member
    let e = await expectFailure(ours.subarray(0, Math.floor(ours.length * 0.6)), a.target, 'E_ARCHIVE_TRUNCATED', /gzip member 2/);
    assert.equal(e.partial!.files, 1, 'the first file was completely written');

    // CRC of member 2 corrupted: find member 2 via the length subfield of member 1
    const m1 = ours.readUInt32LE(16);
    const m2 = ours.readUInt32LE(m1 + 16);
    const bad = Buffer.from(ours);
    bad[m1 + m2 - 8] ^= 0xff; // first CRC32 byte of member 2's trailer
    e = await expectFailure(bad, a.target, 'E_ARCHIVE_CORRUPT', /CRC mismatch at gzip member 2/);

    // deflate data corrupted inside member 1
    const bad2 = Buffer.from(ours);
    for (let i = 100; i < 140; i++) bad2[i] ^= 0x55;
    await expectFailure(bad2, a.target, 'E_ARCHIVE_CORRUPT', /member 1/);

    await expectFailure(Buffer.from('this is not a gzip file at all'), a.target, 'E_ARCHIVE_CORRUPT', /bad gzip header/);
    await expectFailure(Buffer.alloc(0), a.target, 'E_ARCHIVE_TRUNCATED', /empty/);
    await expectFailure(Buffer.concat([ours, Buffer.from('trailing garbage')]), a.target, 'E_ARCHIVE_CORRUPT', /after gzip member/);

    // plain single-member gzip (stream path) truncated
    const plain = buildTarGz([{ name: 'p.txt', data: big }]);
    await expectFailure(plain.subarray(0, plain.length >> 1), a.target, 'E_ARCHIVE_TRUNCATED', /unexpected end of the gzip stream/);

    // gzip intact, tar cut inside an entry
    const tar = buildTar([{ name: 'cut.bin', data: Buffer.alloc(5000, 1) }], { endMarker: false });
    await expectFailure(gzipSync(tar.subarray(0, 2048)), a.target, 'E_ARCHIVE_TRUNCATED', /inside entry "cut.bin"/);

    // bad tar header checksum
    const t2 = buildTar([{ name: 'x.txt', data: 'x' }]);
    t2[10] ^= 0x01;
    await expectFailure(gzipSync(t2), a.target, 'E_ARCHIVE_CORRUPT', /bad tar header checksum at offset 0/);

    // tar without its end marker
    await expectFailure(gzipSync(buildTar([{ name: 'y.txt', data: 'y' }], { endMarker: false })), a.target, 'E_ARCHIVE_TRUNCATED', /end-of-archive/);
    a.untouched();
  } finally {
    await a.t.cleanup();
  }
});
