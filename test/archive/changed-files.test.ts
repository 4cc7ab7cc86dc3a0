import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createArchiveFile, extractArchive, listArchive, verifyArchive } from '../../src/archive/index.ts';
import { createTestHooks } from '../../src/archive/create.ts';
import { buildTree, mustRun, randomBytes, tempDir } from './helpers.ts';

async function entryNames(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of listArchive(fs.createReadStream(file))) out.push(e.name);
  return out;
}

/** Appends to `victim` right after its bytes were read, on the given passes (1 = walk, 2 = re-read). */
async function appendDuring(passes: Array<1 | 2>, victimSize = 100_000): Promise<{ t: Awaited<ReturnType<typeof tempDir>>; src: string; file: string; result: Awaited<ReturnType<typeof createArchiveFile>> }> {
  const t = await tempDir();
  const src = join(t.path, 'src');
  buildTree(src);
  fs.writeFileSync(join(src, 'world/level.dat_growing'), randomBytes(victimSize));
  const file = join(t.path, 'out.tar.gz');
  createTestHooks.afterRead = (rel, pass) => {
    if (rel === 'world/level.dat_growing' && passes.includes(pass)) fs.appendFileSync(join(src, rel), `appended during pass ${pass}\n`);
  };
  try {
    const result = await createArchiveFile(src, file);
    return { t, src, file, result };
  } finally {
    delete createTestHooks.afterRead;
  }
}

test('an unchanged tree reports no changed files', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    buildTree(src);
    const r = await createArchiveFile(src, join(t.path, 'out.tar.gz'));
    assert.deepEqual(r.changedFiles, { count: 0, names: [], inconsistent: 0 });
  } finally {
    await t.cleanup();
  }
});

test('a file appended to while it is read is counted and re-read at the end; the last copy is consistent', async () => {
  const { t, src, file, result } = await appendDuring([1]);
  try {
    assert.deepEqual(result.changedFiles, { count: 1, names: ['world/level.dat_growing'], inconsistent: 0 });
    const names = await entryNames(file);
    assert.equal(names.filter((n) => n === 'world/level.dat_growing').length, 2, 'a second entry for the same path');
    assert.equal(names.at(-1), 'world/level.dat_growing', 'the second copy is the last entry');
    // GNU tar reads it whole, and extracts the last copy (last entry wins)
    const gnu = mustRun('tar', ['-tzf', file]).trim().split('\n');
    assert.equal(gnu.length, names.length);
    const gnuOut = join(t.path, 'gnu');
    fs.mkdirSync(gnuOut);
    mustRun('tar', ['-xzf', file, '-C', gnuOut]);
    const now = fs.readFileSync(join(src, 'world/level.dat_growing'));
    assert.ok(fs.readFileSync(join(gnuOut, 'world/level.dat_growing')).equals(now), 'GNU tar restores the consistent copy');
    // ours too, and the archive verifies
    const ours = join(t.path, 'ours');
    fs.mkdirSync(ours);
    await extractArchive(fs.createReadStream(file), ours);
    assert.ok(fs.readFileSync(join(ours, 'world/level.dat_growing')).equals(now), 'our extract restores the consistent copy');
    assert.ok(fs.readFileSync(join(ours, 'world/level.dat_growing')).toString('latin1').endsWith('appended during pass 1\n'));
    const v = await verifyArchive(fs.createReadStream(file));
    assert.equal(v.entries, names.length);
  } finally {
    await t.cleanup();
  }
});

test('a file that changes again on the re-read stays counted as inconsistent; the archive stays valid', async () => {
  const { t, file, result } = await appendDuring([1, 2]);
  try {
    assert.deepEqual(result.changedFiles, { count: 1, names: ['world/level.dat_growing'], inconsistent: 1 });
    const names = await entryNames(file);
    assert.equal(names.filter((n) => n === 'world/level.dat_growing').length, 2, 're-read once only');
    assert.equal(mustRun('tar', ['-tzf', file]).trim().split('\n').length, names.length);
    const ours = join(t.path, 'ours');
    fs.mkdirSync(ours);
    await extractArchive(fs.createReadStream(file), ours);
    // The second copy holds exactly the size its header announced (cut at the stat's size).
    assert.equal(fs.statSync(join(ours, 'world/level.dat_growing')).size, 100_000 + 'appended during pass 1\n'.length);
  } finally {
    await t.cleanup();
  }
});

test('a file that shrank while read is counted; its first copy is zero-padded, the re-read copy is whole', async () => {
  const t = await tempDir();
  const src = join(t.path, 'src');
  fs.mkdirSync(src);
  // Bigger than one 1 MiB slice so the shrink lands mid-read: truncate on the first checkpoint.
  fs.writeFileSync(join(src, 'big.bin'), randomBytes(3 << 20));
  fs.writeFileSync(join(src, 'z.txt'), 'z');
  const file = join(t.path, 'out.tar.gz');
  let truncated = false;
  try {
    const r = await createArchiveFile(src, file, {
      onProgress: () => {
        if (!truncated) {
          truncated = true;
          fs.truncateSync(join(src, 'big.bin'), 1000);
        }
      },
    });
    assert.ok(truncated);
    assert.equal(r.changedFiles.count, 1);
    assert.deepEqual(r.changedFiles.names, ['big.bin']);
    assert.equal(mustRun('tar', ['-tzf', file]).trim().split('\n').length, 3);
    const ours = join(t.path, 'ours');
    fs.mkdirSync(ours);
    await extractArchive(fs.createReadStream(file), ours);
    assert.ok(fs.readFileSync(join(ours, 'big.bin')).equals(fs.readFileSync(join(src, 'big.bin'))));
  } finally {
    await t.cleanup();
  }
});

test('names list stops at 20 while the count goes on', async () => {
  const t = await tempDir();
  const src = join(t.path, 'src');
  fs.mkdirSync(src);
  for (let i = 0; i < 25; i++) fs.writeFileSync(join(src, `f${String(i).padStart(2, '0')}`), `file ${i}`);
  createTestHooks.afterRead = (rel, pass) => {
    if (pass === 1) fs.appendFileSync(join(src, rel), '+');
  };
  try {
    const r = await createArchiveFile(src, join(t.path, 'out.tar.gz'));
    assert.equal(r.changedFiles.count, 25);
    assert.equal(r.changedFiles.inconsistent, 0);
    assert.deepEqual(r.changedFiles.names, Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`));
  } finally {
    delete createTestHooks.afterRead;
    await t.cleanup();
  }
});
