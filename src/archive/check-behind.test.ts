/**
 * The read-back behind the writer (issue 17): each fault that can happen to a member between its
 * writing and its read-back is found, with its reason, and a good archive's checksum is that of
 * the stored file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createArchiveFile } from './create-file.ts';
import { ReadBehind, readBehindThreads, readBehindTuning, type MemberWritten, type ReadBehindOutcome } from './check-behind.ts';
import { frameMember } from './gzip-member.ts';
import type { ChecksumType } from './types.ts';

let dir: string;
let tree: string;
let n = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bw-behind-'));
  tree = join(dir, 'tree');
  mkdirSync(join(tree, 'world'), { recursive: true });
  // Incompressible data over several 1 MiB slices, and text that deflates: both kinds of member.
  writeFileSync(join(tree, 'world/region.mca'), randomBytes(3_300_000));
  writeFileSync(join(tree, 'server.log'), 'INFO player joined\n'.repeat(120_000));
  writeFileSync(join(tree, 'server.properties'), 'motd=hi\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** What the daemon does, up to its final look at the stored file. */
async function backup(beforeMember?: (path: string, m: MemberWritten) => void, checksumType: ChecksumType = 'sha256') {
  const dest = join(dir, `a${++n}.tar.gz`);
  const behind = new ReadBehind({ checksumType, beforeMember });
  try {
    const result = await createArchiveFile(tree, dest, { checksum: checksumType, hashOutput: false }, { wrapOutput: (f, tmp) => behind.wrap(f, tmp) });
    assert.equal(result.checksum, '', 'the writer no longer hashes');
    return { dest, size: result.size, outcome: await behind.finish(result.size) };
  } finally {
    await behind.close();
  }
}

function flip(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0x5a;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

const damaged = (o: ReadBehindOutcome) => (o.good ? `good (${o.members} members)` : o.reason);

test('every member is read back from the file as it is stored; the checksum is the stored file\'s (sha256 and sha1)', async () => {
  for (const type of ['sha256', 'sha1'] as const) {
    const seen: MemberWritten[] = [];
    const { dest, size, outcome } = await backup((_p, m) => seen.push(m), type);
    assert.ok(outcome.good, damaged(outcome));
    const stored = readFileSync(dest);
    assert.equal(outcome.checksum, createHash(type).update(stored).digest('hex'));
    assert.equal(outcome.size, stored.length);
    assert.equal(outcome.entries, 4, 'world/ and three files walked');
    assert.ok(seen.length >= 4, `several members (${seen.length})`);
    // Contiguous from 0 to the end of the file: every byte was read back once.
    let at = 0;
    for (const [i, m] of seen.entries()) {
      assert.deepEqual([m.index, m.offset], [i + 1, at]);
      at += m.length;
    }
    assert.equal(at, size);
    assert.equal(outcome.members, seen.length);
  }
});

test('one read-back thread serves backup after backup; one that found damage is not reused, and the next backup is checked right', async () => {
  const started = () => readBehindThreads.started;
  const first = await backup();
  assert.ok(first.outcome.good, damaged(first.outcome));
  const afterFirst = started();
  const second = await backup(undefined, 'sha1');
  assert.ok(second.outcome.good, damaged(second.outcome));
  assert.equal(started(), afterFirst, 'the thread the first backup left checked the second');
  assert.equal(second.outcome.checksum, createHash('sha1').update(readFileSync(second.dest)).digest('hex'), 'its own checksum type, from a fresh hash');
  assert.equal(second.outcome.entries, 4, 'a fresh tar walk');
  const bad = await backup((path, m) => m.index === 2 && flip(path, m.offset + 30));
  assert.equal(bad.outcome.good, false);
  assert.equal(started(), afterFirst, 'the damaged backup was checked on the kept thread too');
  const next = await backup();
  assert.ok(next.outcome.good, damaged(next.outcome));
  assert.equal(started(), afterFirst + 1, 'a thread that found damage was stopped, not given to the next backup');
  assert.equal(next.outcome.checksum, first.outcome.good ? first.outcome.checksum : '', 'same tree, same archive');
});

test('the kept thread is stopped after a while without backups; the next backup starts one and is checked right', async () => {
  const was = readBehindTuning.idleMs;
  readBehindTuning.idleMs = 10;
  try {
    const a = await backup();
    assert.ok(a.outcome.good, damaged(a.outcome));
    const before = readBehindThreads.started;
    for (let i = 0; i < 500 && readBehindThreads.kept; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(readBehindThreads.kept, false, 'the idle thread was stopped');
    readBehindTuning.idleMs = was;
    const b = await backup();
    assert.ok(b.outcome.good, damaged(b.outcome));
    assert.equal(readBehindThreads.started, before + 1);
    assert.equal(readBehindThreads.kept, true, 'and kept again after it');
  } finally {
    readBehindTuning.idleMs = was;
  }
});

test('a byte changed in a member after it was written and before its read-back: the writer\'s CRC32 finds it', async () => {
  const { outcome } = await backup((path, m) => m.index === 2 && flip(path, m.offset + Math.floor(m.length / 2)));
  assert.equal(outcome.good, false);
  assert.match(damaged(outcome), /^gzip member 2 as stored differs from what was written \(CRC32 [0-9a-f]{8}, written [0-9a-f]{8}\)$/);
});

test('a changed byte that inflating would never notice (a gzip header\'s MTIME) is found too', async () => {
  let member: Buffer | null = null;
  const { outcome } = await backup((path, m) => {
    if (m.index !== 1) return;
    flip(path, m.offset + 5);
    member = readFileSync(path).subarray(m.offset, m.offset + m.length);
  });
  // The damaged member still inflates, CRC and length intact: only the comparison with what was written can tell.
  assert.ok(member);
  assert.doesNotThrow(() => gunzipSync(member!));
  assert.equal(outcome.good, false);
  assert.match(damaged(outcome), /^gzip member 1 as stored differs from what was written/);
});

test('a stored archive cut short inside its last member', async () => {
  const whole = await backup();
  assert.ok(whole.outcome.good);
  const last = whole.outcome.members;
  const { outcome } = await backup((path, m) => m.index === last && truncateSync(path, m.offset + 100));
  assert.equal(outcome.good, false);
  assert.match(damaged(outcome), new RegExp(`^unexpected end of the stored archive inside gzip member ${last} \\(100 of \\d+ bytes\\)$`));
});

test('members that match what was written but hold a tar stream without its end: the walk finds it', async () => {
  // A writer that is not createArchive: one framed member of a tar header block, no end-of-archive marker.
  const block = Buffer.alloc(512);
  block.write('a.txt', 0);
  block.write('0000644\0', 100);
  block.write('00000000000\0', 124);
  block.write('00000000000\0', 136);
  block[156] = 0x30;
  block.write('ustar\0' + '00', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const [head, body] = frameMember(gzipSync(block), block.length);
  const tmp = join(dir, `raw${++n}.tar.gz`);
  const behind = new ReadBehind({ checksumType: 'sha256' });
  try {
    const out = behind.wrap(createWriteStream(tmp), tmp);
    out.write(head);
    out.end(body);
    await finished(out);
    const outcome = await behind.finish(head.length + body.length);
    assert.equal(outcome.good, false);
    assert.match(damaged(outcome), /end-of-archive marker/);
  } finally {
    await behind.close();
  }
});

test('a backup aborted while its members are read back fails cleanly: no stray error, the temporary file removed', async () => {
  const dest = join(dir, `abort${++n}.tar.gz`);
  const ctl = new AbortController();
  const behind = new ReadBehind({ checksumType: 'sha256', beforeMember: (_p, m) => m.index === 2 && ctl.abort(new Error('deleted')) });
  try {
    await assert.rejects(createArchiveFile(tree, dest, { hashOutput: false, signal: ctl.signal }, { wrapOutput: (f, tmp) => behind.wrap(f, tmp) }), { name: 'AbortError' });
  } finally {
    await behind.close();
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(`abort${n}`)), []);
});
