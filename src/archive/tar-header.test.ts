import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK, checksumOk, decodeHeader, encodeHeader, parseNumeric, parsePax, TYPE } from './tar-header.ts';
import { TarParser, type TarEntry } from './tar-parser.ts';
import { probeMember, frameMember } from './gzip-member.ts';
import { gzipSync, gunzipSync } from 'node:zlib';

function parseAll(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  const p = new TarParser({ onEntry: (e) => (out.push(e), null) });
  // feed in odd-sized pieces to exercise every state across chunk boundaries
  for (let i = 0; i < buf.length; i += 37) p.push(buf.subarray(i, Math.min(buf.length, i + 37)));
  return out;
}

test('short ASCII names use plain ustar; long, non-ASCII and huge values use PAX', () => {
  const s = Buffer.alloc(BLOCK * 8);
  assert.equal(encodeHeader({ name: 'a/b.txt', type: TYPE.file, mode: 0o644, uid: 1000, gid: 1000, size: 5, mtime: 1 }, s), BLOCK);
  assert.ok(checksumOk(s, 0));
  assert.equal(decodeHeader(s, 0).name, 'a/b.txt');

  // 150 chars splittable at a slash: still ustar via the prefix field
  const split = `${'d'.repeat(60)}/${'e'.repeat(89)}`;
  assert.equal(encodeHeader({ name: split, type: TYPE.file, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0 }, s), BLOCK);
  assert.equal(decodeHeader(s, 0).name, split);

  const cases: Array<{ name: string; linkname?: string; size?: number; mtime?: number; uid?: number }> = [
    { name: 'x'.repeat(300) },
    { name: 'ünïcødé.txt' },
    { name: 'l', linkname: 't'.repeat(200) },
    { name: 'big', size: 8 * 1024 ** 3 },
    { name: 'future', mtime: 0o77777777777 + 10 },
    { name: 'uid', uid: 0o7777777 + 1 },
  ];
  const parts: Buffer[] = [];
  for (const c of cases) {
    const b = Buffer.alloc(BLOCK * 8);
    const len = encodeHeader({ name: c.name, type: c.linkname ? TYPE.symlink : TYPE.file, mode: 0o600, uid: c.uid ?? 0, gid: 0, size: c.size ?? 0, mtime: c.mtime ?? 5, linkname: c.linkname }, b);
    assert.ok(len > BLOCK, `${c.name.slice(0, 10)} needs PAX`);
    parts.push(b.subarray(0, len));
  }
  // the big entry's data is not present, so parse each header alone
  for (let i = 0; i < parts.length; i++) {
    const entries: TarEntry[] = [];
    const p = new TarParser({ onEntry: (e) => (entries.push(e), null) });
    p.push(parts[i]!);
    const e = entries[0]!;
    assert.equal(e.name, cases[i]!.name);
    if (cases[i]!.linkname) assert.equal(e.linkname, cases[i]!.linkname);
    if (cases[i]!.size) assert.equal(e.size, cases[i]!.size);
    if (cases[i]!.mtime) assert.equal(e.mtime, cases[i]!.mtime);
    if (cases[i]!.uid) assert.equal(e.uid, cases[i]!.uid);
  }
});

test('parser handles GNU base-256 sizes, PAX records and chunk boundaries', () => {
  const b = Buffer.alloc(12);
  b[0] = 0x80;
  b.writeUIntBE(9 * 1024 ** 3, 6, 6);
  assert.equal(parseNumeric(b, 0, 12), 9 * 1024 ** 3);
  assert.deepEqual([...parsePax(Buffer.from('11 path=ab\n16 linkpath=xyz\n')).entries()], [['path', 'ab'], ['linkpath', 'xyz']]);
  assert.throws(() => parsePax(Buffer.from('99 path=ab\n')));

  const files = ['one', 'two', 'three'].map((n, i) => ({ n, data: Buffer.alloc(i * 700 + 1, i + 1) }));
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(BLOCK * 4);
    const len = encodeHeader({ name: f.n, type: TYPE.file, mode: 0o644, uid: 0, gid: 0, size: f.data.length, mtime: 9 }, h);
    parts.push(h.subarray(0, len), f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  const entries = parseAll(Buffer.concat(parts));
  assert.deepEqual(entries.map((e) => [e.name, e.size]), files.map((f) => [f.n, f.data.length]));
});

test('gzip member framing round-trips through zlib and probeMember', () => {
  const raw = Buffer.from('hello world '.repeat(100));
  const [h, body] = frameMember(gzipSync(raw, { level: 1 }), raw.length);
  const member = Buffer.concat([h, body]);
  assert.deepEqual(gunzipSync(member), raw, 'any gzip reader skips the extra field');
  const probe = probeMember(member, 0);
  assert.deepEqual(probe, { kind: 'indexed', memberLength: member.length, rawLength: raw.length });
  assert.deepEqual(probeMember(gzipSync(raw), 0), { kind: 'plain' });
  assert.deepEqual(probeMember(member.subarray(0, 5), 0), { kind: 'need-more' });
  assert.deepEqual(probeMember(Buffer.from('PK\u0003\u0004rest'), 0), { kind: 'bad-magic' });
});
