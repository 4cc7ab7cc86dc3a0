import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createArchiveFile, extractArchive, listArchive } from '../../src/archive/index.ts';
import { BLOCK, encodeHeader, TYPE } from '../../src/archive/tar-header.ts';
import { gzipSync } from 'node:zlib';
import { mustRun, tempDir } from './helpers.ts';

// "f\xff.txt": 0xff never occurs in UTF-8.
const RAW = Buffer.from([0x66, 0xff, 0x2e, 0x74, 0x78, 0x74]);
const RAW_DIR = Buffer.from([0x64, 0xe9, 0x6a, 0xe0]); // "déjà" in latin1
// Over 100 bytes and with no '/' to split at: needs a GNU long-name record.
const RAW_LONG = Buffer.concat([Buffer.from('long-'.repeat(24)), Buffer.from([0xfe, 0x2e, 0x62, 0x69, 0x6e])]);
const RAW_LINK = Buffer.from([0x6c, 0x6e, 0x6b, 0x80]);

function p(root: string, ...parts: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(root), ...parts.flatMap((b) => [Buffer.from('/'), b])]);
}

/** A tree whose names and a link target are not valid UTF-8, at the top, in a directory and long. */
function rawTree(src: string): void {
  fs.mkdirSync(src);
  fs.writeFileSync(p(src, RAW), 'raw name');
  fs.writeFileSync(join(src, 'plain.txt'), 'plain');
  fs.mkdirSync(p(src, RAW_DIR));
  fs.writeFileSync(p(src, RAW_DIR, RAW), 'inside a raw dir');
  fs.writeFileSync(p(src, RAW_DIR, RAW_LONG), 'long raw name');
  fs.symlinkSync(RAW, p(src, RAW_LINK)); // target "f\xff.txt" is raw too
}

function assertRawTree(dst: string, how: string): void {
  const top = fs.readdirSync(dst, { encoding: 'buffer' }).map((b) => b.toString('hex')).sort();
  assert.deepEqual(top, [RAW, RAW_DIR, RAW_LINK, Buffer.from('plain.txt')].map((b) => b.toString('hex')).sort(), `${how}: top-level names`);
  assert.equal(fs.readFileSync(p(dst, RAW), 'utf8'), 'raw name', how);
  assert.equal(fs.readFileSync(p(dst, RAW_DIR, RAW), 'utf8'), 'inside a raw dir', how);
  assert.equal(fs.readFileSync(p(dst, RAW_DIR, RAW_LONG), 'utf8'), 'long raw name', how);
  assert.ok(fs.lstatSync(p(dst, RAW_LINK)).isSymbolicLink(), how);
  assert.ok(fs.readlinkSync(p(dst, RAW_LINK), { encoding: 'buffer' }).equals(RAW), `${how}: link target bytes`);
}

test('names that are not valid UTF-8 round-trip as raw bytes: ours → GNU tar, GNU tar → ours, ours → ours', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    rawTree(src);
    const ours = join(t.path, 'ours.tar.gz');
    const r = await createArchiveFile(src, ours);
    assert.equal(r.files, 6, 'nothing skipped');

    const listed: string[] = [];
    for await (const e of listArchive(fs.createReadStream(ours))) listed.push(e.name);
    assert.ok(listed.includes('f\uFFFD.txt'), `listing shows replacement characters: ${JSON.stringify(listed)}`);

    // ours → GNU tar
    const byGnu = join(t.path, 'by-gnu');
    fs.mkdirSync(byGnu);
    mustRun('tar', ['-xzf', ours, '-C', byGnu]);
    assertRawTree(byGnu, 'GNU tar extracting ours');

    // ours → ours
    const byUs = join(t.path, 'by-us');
    fs.mkdirSync(byUs);
    const x = await extractArchive(fs.createReadStream(ours), byUs);
    assert.deepEqual(x.skipped, []);
    assertRawTree(byUs, 'we extract ours');

    // GNU tar (gnu format: raw header bytes and 'L' records) → ours
    for (const format of ['gnu', 'posix']) {
      const gnu = join(t.path, `gnu-${format}.tar.gz`);
      mustRun('tar', [`--format=${format}`, '-czf', gnu, '-C', src, '.']);
      const dst = join(t.path, `from-gnu-${format}`);
      fs.mkdirSync(dst);
      const res = await extractArchive(fs.createReadStream(gnu), dst);
      assert.deepEqual(res.skipped, [], format);
      assertRawTree(dst, `we extract GNU tar --format=${format}`);
    }

    // bsdtar's PAX archives mark such names hdrcharset=BINARY
    const bsd = join(t.path, 'bsd.tar.gz');
    mustRun('bsdtar', ['--format', 'pax', '-czf', bsd, '-C', src, '.']);
    const dst = join(t.path, 'from-bsd');
    fs.mkdirSync(dst);
    await extractArchive(fs.createReadStream(bsd), dst);
    assertRawTree(dst, 'we extract bsdtar pax');
  } finally {
    await t.cleanup();
  }
});

test('ignore rules see a raw name with U+FFFD in place of each invalid byte', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    rawTree(src);
    const file = join(t.path, 'ign.tar.gz');
    await createArchiveFile(src, file, { ignore: 'f\uFFFD.txt\nd?j?/long-*' });
    const names: string[] = [];
    for await (const e of listArchive(fs.createReadStream(file))) names.push(e.name);
    assert.deepEqual(names.sort(), ['d\uFFFDj\uFFFD/', 'lnk\uFFFD', 'plain.txt'].sort());
  } finally {
    await t.cleanup();
  }
});

test('raw byte names get the same safety checks on extraction', async () => {
  const t = await tempDir();
  try {
    const entry = (raw: Buffer, type: number, data = Buffer.alloc(0), rawLinkname?: Buffer) => {
      const scratch = Buffer.alloc(BLOCK * 16);
      const len = encodeHeader(
        { name: raw.toString('utf8'), rawName: raw, type, mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 1_600_000_000, ...(rawLinkname ? { linkname: rawLinkname.toString('utf8'), rawLinkname } : {}) },
        scratch,
      );
      return [scratch.subarray(0, len), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)];
    };
    const b = (s: string) => Buffer.from(s, 'latin1');
    const tar = Buffer.concat([
      ...entry(b('../esc\xff'), TYPE.file, Buffer.from('x')),
      ...entry(b('/abs\xff'), TYPE.file, Buffer.from('x')),
      ...entry(b('lnk\xff'), TYPE.symlink, undefined, b('../../out\xff')),
      ...entry(b('via\xff'), TYPE.symlink, undefined, b('.')), // a link inside the root, to a dir
      ...entry(b('via\xff/through'), TYPE.file, Buffer.from('x')),
      ...entry(b('ok\xff/fine\xfe'), TYPE.file, Buffer.from('fine')),
      Buffer.alloc(BLOCK * 2),
    ]);
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    const { Readable } = await import('node:stream');
    const r = await extractArchive(Readable.from([gzipSync(tar)]), dst);
    const reasons = r.skipped.map((s) => s.reason);
    assert.equal(r.skipped.length, 4, JSON.stringify(r.skipped));
    assert.ok(reasons.some((x) => x.includes('..')), JSON.stringify(reasons));
    assert.ok(reasons.some((x) => x.includes('absolute')), JSON.stringify(reasons));
    assert.ok(reasons.some((x) => x.includes('leaves the target directory')), JSON.stringify(reasons));
    assert.ok(reasons.some((x) => x.includes('symbolic link')), JSON.stringify(reasons));
    assert.equal(fs.readFileSync(Buffer.concat([Buffer.from(`${dst}/`), b('ok\xff/fine\xfe')]), 'utf8'), 'fine');
    assert.deepEqual(fs.readdirSync(t.path), ['dst'], 'nothing written beside the target');
  } finally {
    await t.cleanup();
  }
});
