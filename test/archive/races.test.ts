import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { ArchiveError, createArchiveFile, extractArchive, listArchive, verifyArchive } from '../../src/archive/index.ts';
import { extractTestHooks, extractTuning } from '../../src/archive/extract.ts';
import { NATIVE_SMALL_FILE_MAX } from '../../src/archive/extract-actions.ts';
import { mustRun, randomBytes, tempDir } from './helpers.ts';

test('a file deleted after its directory was read is skipped and the archive stays valid', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    const COUNT = 400;
    const name = (i: number) => `f${String(i).padStart(3, '0')}.bin`;
    // 400 × 16 KiB: the walk crosses several 1 MiB slices, each a progress checkpoint.
    for (let i = 0; i < COUNT; i++) fs.writeFileSync(join(src, name(i)), randomBytes(16 * 1024));
    const victims = [name(COUNT - 1), name(COUNT - 50)];
    let deletedAt = -1;
    const file = join(t.path, 'out.tar.gz');
    const r = await createArchiveFile(src, file, {
      onProgress: (p) => {
        if (deletedAt < 0 && p.filesDone > 0 && p.filesDone < COUNT - 100) {
          deletedAt = p.filesDone;
          for (const v of victims) fs.unlinkSync(join(src, v));
        }
      },
    });
    assert.ok(deletedAt > 0, 'the files were deleted while the walk was in the same directory, before reaching them');
    assert.equal(r.files, COUNT - victims.length);
    const names: string[] = [];
    for await (const e of listArchive(fs.createReadStream(file))) names.push(e.name);
    assert.equal(names.length, COUNT - victims.length);
    for (const v of victims) assert.ok(!names.includes(v), `${v} is not in the archive`);
    assert.ok(names.includes(name(COUNT - 2)));
    const v = await verifyArchive(fs.createReadStream(file));
    assert.equal(v.entries, COUNT - victims.length);
    // and other tools agree it is whole
    const gnu = mustRun('tar', ['-tzf', file]).trim().split('\n');
    assert.equal(gnu.length, COUNT - victims.length);
  } finally {
    await t.cleanup();
  }
});

/**
 * An archive of d/f (d/a first when `heldFirst`), an empty `dst` and an `outside` directory (with
 * a file or link named f when asked), and the beforeOpen hook armed to swap dst/d for a symlink to
 * `outside` (keeping the checked directory as dst/d-checked) right before d/f is opened.
 */
async function armSwap(root: string, kind: 'small' | 'large', preexisting: 'none' | 'file' | 'symlink', heldFirst: boolean) {
  const src = join(root, 'src');
  fs.mkdirSync(join(src, 'd'), { recursive: true });
  if (heldFirst) fs.writeFileSync(join(src, 'd', 'a'), 'first');
  // Large: above what is batched, so the main thread opens and streams it.
  const payload = kind === 'small' ? Buffer.from('payload') : randomBytes(NATIVE_SMALL_FILE_MAX + 4096);
  fs.writeFileSync(join(src, 'd', 'f'), payload);
  const file = join(root, 'in.tar.gz');
  await createArchiveFile(src, file);
  const dst = join(root, 'dst');
  const outside = join(root, 'outside');
  fs.mkdirSync(dst);
  fs.mkdirSync(outside);
  // A file of the same name outside: the open would reach it through the swapped link (EEXIST path).
  if (preexisting === 'file') fs.writeFileSync(join(outside, 'f'), 'precious');
  // A link there would be replaced (unlink + create), which must not happen outside either.
  if (preexisting === 'symlink') fs.symlinkSync('elsewhere', join(outside, 'f'));
  const state = { file, dst, outside, payload, swapped: false };
  extractTestHooks.beforeOpen = (rel) => {
    if (rel !== 'd/f' || state.swapped) return;
    state.swapped = true;
    fs.renameSync(join(dst, 'd'), join(dst, 'd-checked'));
    fs.symlinkSync(outside, join(dst, 'd'));
  };
  return state;
}

/**
 * Swaps a directory that extraction has already checked for a symlink to `outside`, right before
 * the file below it is opened: O_NOFOLLOW only guards the last component, so only the
 * held-directory check (opened O_NOFOLLOW|O_DIRECTORY, real path via /proc/self/fd) stands
 * between the data and the outside directory.
 */
async function swapRace(kind: 'small' | 'large', preexisting: 'none' | 'file' | 'symlink' = 'none', writerThread = false): Promise<void> {
  const t = await tempDir();
  const savedAfter = extractTuning.writerAfter;
  if (writerThread) {
    // The small file goes to the writer thread, which opens it after the swap.
    extractTuning.writerAfter = 1;
    extractTestHooks.waitForWriter = true;
  }
  try {
    const state = await armSwap(t.path, kind, preexisting, false);
    const { file, dst, outside } = state;
    await assert.rejects(extractArchive(fs.createReadStream(file), dst), (err: unknown) => {
      assert.ok(err instanceof ArchiveError, String(err));
      assert.equal(err.code, 'E_ARCHIVE_UNSAFE');
      assert.match(err.message, /outside the target directory/);
      return true;
    });
    assert.ok(state.swapped, 'the hook ran between the check and the open');
    if (preexisting === 'symlink') {
      assert.equal(fs.readlinkSync(join(outside, 'f')), 'elsewhere', 'the outside link was not removed');
      assert.deepEqual(fs.readdirSync(outside), ['f']);
    } else if (preexisting === 'file') {
      assert.equal(fs.readFileSync(join(outside, 'f'), 'utf8'), 'precious', 'the outside file was neither truncated nor written');
    } else {
      // Refused when the directory is held, before any open in it: not even an empty file outside.
      assert.deepEqual(fs.readdirSync(outside), [], 'nothing was created outside');
    }
  } finally {
    delete extractTestHooks.beforeOpen;
    delete extractTestHooks.waitForWriter;
    extractTuning.writerAfter = savedAfter;
    await t.cleanup();
  }
}

test('a checked directory swapped for a symlink before a small file opens: refused when its directory is held (real path via /proc/self/fd)', async () => {
  await swapRace('small');
});

test('a checked directory swapped for a symlink before a large file opens: refused when its directory is held (real path via /proc/self/fd)', async () => {
  await swapRace('large');
});

test('the same race onto an existing file outside leaves that file intact (truncation waits for the check)', async () => {
  await swapRace('small', 'file');
  await swapRace('large', 'file');
});

test('the same race onto an existing link outside does not unlink it (parent re-checked before replacing)', async () => {
  await swapRace('small', 'symlink');
  await swapRace('large', 'symlink');
});

test('the same races with small files written by the writer thread: refused, nothing written or removed outside', async () => {
  await swapRace('small', 'none', true);
  await swapRace('small', 'file', true);
  await swapRace('small', 'symlink', true);
});

/**
 * The directory is held open from its first file on: a swap for a symlink after that cannot
 * redirect the later files (they are created through /proc/self/fd/<dirfd>/<name>, in the
 * directory that was checked, now renamed but still inside the target), and nothing reaches outside.
 */
async function swapAfterHeld(kind: 'small' | 'large', preexisting: 'none' | 'file'): Promise<void> {
  const t = await tempDir();
  try {
    const state = await armSwap(t.path, kind, preexisting, true);
    const { file, dst, outside, payload } = state;
    const r = await extractArchive(fs.createReadStream(file), dst);
    assert.ok(state.swapped, 'the hook ran between the check and the open');
    assert.equal(r.files, 2);
    assert.deepEqual(fs.readFileSync(join(dst, 'd-checked', 'f')), payload, 'the file went into the held (checked) directory');
    assert.equal(fs.readFileSync(join(dst, 'd-checked', 'a'), 'utf8'), 'first');
    assert.deepEqual(fs.readdirSync(outside), preexisting === 'file' ? ['f'] : [], 'nothing was created outside');
    if (preexisting === 'file') assert.equal(fs.readFileSync(join(outside, 'f'), 'utf8'), 'precious');
  } finally {
    delete extractTestHooks.beforeOpen;
    await t.cleanup();
  }
}

test('a held directory swapped for a symlink: later small and large files still land in the checked directory, none outside', async () => {
  await swapAfterHeld('small', 'none');
  await swapAfterHeld('small', 'file');
  await swapAfterHeld('large', 'file');
});
