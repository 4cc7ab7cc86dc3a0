import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarWalk } from './check-tar-walk.ts';
import { BLOCK, encodeHeader, TYPE } from './tar-header.ts';

/** A tar stream of `files` (PAX headers where ustar cannot hold a name), ended by two zero blocks. */
function tarOf(files: Array<{ name: string; data: Buffer; type?: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(BLOCK * 4);
    const len = encodeHeader({ name: f.name, type: f.type ?? TYPE.file, mode: 0o644, uid: 0, gid: 0, size: f.type === TYPE.dir ? 0 : f.data.length, mtime: 9 }, h);
    parts.push(h.subarray(0, len));
    if (f.type !== TYPE.dir) parts.push(f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

const walk = (tar: Buffer, chunk: number): TarWalk => {
  const w = new TarWalk();
  for (let i = 0; i < tar.length; i += chunk) w.push(tar.subarray(i, i + chunk));
  w.end();
  return w;
};

const files = [
  { name: 'dir/', data: Buffer.alloc(0), type: TYPE.dir },
  { name: 'dir/a.txt', data: Buffer.alloc(700, 1) },
  { name: `${'long-name-'.repeat(30)}.bin`, data: Buffer.alloc(1500, 2) }, // PAX path record
  { name: 'empty', data: Buffer.alloc(0) },
  // Data that looks like a zero block and like a header: skipped by length, never read as headers.
  { name: 'zeros', data: Buffer.alloc(BLOCK * 3) },
];

test('the verification walk counts every entry to the end marker, whatever the chunking', () => {
  const tar = tarOf(files);
  for (const chunk of [1, 7, 511, 512, 513, 4096, tar.length]) {
    const w = walk(tar, chunk);
    assert.equal(w.entries, files.length, `chunks of ${chunk}`);
    assert.equal(w.ended, true);
  }
});

test('a PAX size overrides the ustar size field (the data is skipped by the PAX length)', () => {
  const data = Buffer.alloc(3000, 3);
  const h = Buffer.alloc(BLOCK);
  encodeHeader({ name: 'f', type: TYPE.file, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1 }, h);
  const rec = '13 size=3000\n';
  const paxHeader = Buffer.alloc(BLOCK);
  encodeHeader({ name: 'PaxHeader/f', type: TYPE.paxLocal, mode: 0o644, uid: 0, gid: 0, size: rec.length, mtime: 1 }, paxHeader);
  const body = Buffer.alloc(BLOCK);
  body.write(rec, 'latin1');
  const tar = Buffer.concat([paxHeader, body, h, data, Buffer.alloc(BLOCK - (data.length % BLOCK)), Buffer.alloc(BLOCK * 2)]);
  assert.equal(walk(tar, 100).entries, 1);
  // Without the PAX record the 3000 bytes would be read as headers: a bad checksum.
  assert.throws(() => walk(Buffer.concat([h, data, Buffer.alloc(BLOCK * 2)]), 512), /bad tar header checksum/);
});

test('faults: a damaged header, a stream cut inside an entry, and no end marker', () => {
  const tar = tarOf(files);
  const flipped = Buffer.from(tar);
  flipped[BLOCK + 3]! ^= 0x40; // the second header's name
  assert.throws(() => walk(flipped, 4096), { code: 'E_ARCHIVE_CORRUPT', message: `bad tar header checksum at offset ${BLOCK}` });
  assert.throws(() => walk(tar.subarray(0, BLOCK * 2 + 100), 4096), { code: 'E_ARCHIVE_TRUNCATED', message: /^unexpected end of stream inside the entry at offset 512/ });
  assert.throws(() => walk(tar.subarray(0, tar.length - BLOCK * 2), 4096), { code: 'E_ARCHIVE_TRUNCATED', message: /without its end-of-archive marker/ });
  assert.throws(() => walk(tar.subarray(0, tar.length - BLOCK * 2 - 100), 4096), { code: 'E_ARCHIVE_TRUNCATED' });
});
