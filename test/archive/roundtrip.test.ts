import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createArchiveFile, extractArchive, verifyArchive, listArchive } from '../../src/archive/index.ts';
import { buildTree, mustRun, snapshot, tempDir } from './helpers.ts';

test('ours → ours round trip keeps content, modes, mtimes, links and empty dirs', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    buildTree(src);
    const file = join(t.path, 'a.tar.gz');
    const res = await createArchiveFile(src, file);
    assert.equal(res.checksumType, 'sha256');
    assert.equal(res.size, fs.statSync(file).size);
    assert.match(res.checksum, /^[0-9a-f]{64}$/);
    const v = await verifyArchive(fs.createReadStream(file));
    assert.equal(v.parallelIndexed, true);
    const names: string[] = [];
    for await (const e of listArchive(fs.createReadStream(file))) names.push(e.name);
    assert.ok(names.includes('empty-dir/nested-empty/'));
    assert.ok(!names.some((n) => n.startsWith('./') || n.startsWith('/')));
    const dst = join(t.path, 'dst');
    fs.mkdirSync(dst);
    const r = await extractArchive(fs.createReadStream(file), dst);
    assert.equal(r.skipped.length, 0);
    assert.deepEqual(snapshot(dst), snapshot(src));
  } finally {
    await t.cleanup();
  }
});

test('GNU tar reads ours and we read GNU tar', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    buildTree(src);
    const file = join(t.path, 'a.tar.gz');
    await createArchiveFile(src, file);
    mustRun('gzip', ['-t', file]);
    const gnuOut = join(t.path, 'gnu-out');
    fs.mkdirSync(gnuOut);
    mustRun('tar', ['-xzf', file, '-C', gnuOut]);
    assert.deepEqual(snapshot(gnuOut), snapshot(src));

    const gnuFile = join(t.path, 'gnu.tar.gz');
    mustRun('tar', ['-czf', gnuFile, '-C', src, '.']);
    const ours = join(t.path, 'ours-out');
    fs.mkdirSync(ours);
    const r = await extractArchive(fs.createReadStream(gnuFile), ours);
    assert.equal(r.skipped.length, 0);
    assert.deepEqual(snapshot(ours), snapshot(src));
    assert.equal((await verifyArchive(fs.createReadStream(gnuFile))).parallelIndexed, false);
  } finally {
    await t.cleanup();
  }
});
