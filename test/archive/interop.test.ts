import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createArchiveFile, extractArchive, listArchive, verifyArchive } from '../../src/archive/index.ts';
import { BLOCK, encodeHeader, TYPE } from '../../src/archive/tar-header.ts';
import { buildTree, mustRun, snapshot, tempDir } from './helpers.ts';

const PY_EXTRACT = `
import sys, tarfile
with tarfile.open(sys.argv[1], 'r:gz') as tf:
    kw = {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}
    tf.extractall(sys.argv[2], **kw)
`;
const PY_CREATE = `
import sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz', format=tarfile.PAX_FORMAT) as tf:
    tf.add(sys.argv[2], arcname='.')
`;

async function withTree(fn: (dir: string, src: string, ours: string) => Promise<void>): Promise<void> {
  const t = await tempDir('bw-interop-');
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    buildTree(src);
    const ours = join(t.path, 'ours.tar.gz');
    await createArchiveFile(src, ours);
    await fn(t.path, src, ours);
  } finally {
    await t.cleanup();
  }
}

test('bsdtar reads ours; we read bsdtar-made archives', async () => {
  await withTree(async (dir, src, ours) => {
    const out = join(dir, 'bsd-out');
    fs.mkdirSync(out);
    mustRun('bsdtar', ['-xpzf', ours, '-C', out]);
    assert.deepEqual(snapshot(out), snapshot(src));

    const bsd = join(dir, 'bsd.tar.gz');
    mustRun('bsdtar', ['-czf', bsd, '-C', src, '.']);
    const back = join(dir, 'from-bsd');
    fs.mkdirSync(back);
    const r = await extractArchive(fs.createReadStream(bsd), back);
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(snapshot(back), snapshot(src));
  });
});

test('python tarfile reads ours; we read python-made PAX archives', async () => {
  await withTree(async (dir, src, ours) => {
    const out = join(dir, 'py-out');
    fs.mkdirSync(out);
    mustRun('python3', ['-c', PY_EXTRACT, ours, out]);
    const a = snapshot(out);
    const b = snapshot(src);
    // tarfile does not restore directory mtimes reliably across versions; compare everything else
    for (const s of [a, b]) for (const v of Object.values(s)) if (v.type === 'dir') v.mtime = 0;
    assert.deepEqual(a, b);

    const py = join(dir, 'py.tar.gz');
    mustRun('python3', ['-c', PY_CREATE, py, src]);
    const back = join(dir, 'from-py');
    fs.mkdirSync(back);
    const r = await extractArchive(fs.createReadStream(py), back);
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(snapshot(back), snapshot(src));
  });
});

test('GNU tar long names (L/K records, gnu format) extract correctly', async () => {
  await withTree(async (dir, src) => {
    const gnu = join(dir, 'gnu-format.tar.gz');
    mustRun('tar', ['--format=gnu', '-czf', gnu, '-C', src, '.']);
    const listed: string[] = [];
    for await (const e of listArchive(fs.createReadStream(gnu))) listed.push(e.name);
    assert.ok(listed.some((n) => n.length > 100), 'a long name came through a GNU L record');
    const back = join(dir, 'from-gnu');
    fs.mkdirSync(back);
    await extractArchive(fs.createReadStream(gnu), back);
    assert.deepEqual(snapshot(back), snapshot(src));
  });
});

test('GNU tar, gzip -t and python list our archive with the expected names', async () => {
  await withTree(async (_dir, _src, ours) => {
    mustRun('gzip', ['-t', ours]);
    const gnu = mustRun('tar', ['-tzf', ours]).trim().split('\n');
    const py = mustRun('python3', ['-c', "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]).getmembers(): print(m.name + ('/' if m.isdir() else ''))", ours]).trim().split('\n');
    const mine: string[] = [];
    for await (const e of listArchive(fs.createReadStream(ours))) mine.push(e.name);
    assert.deepEqual(gnu, mine);
    assert.deepEqual(py, mine);
    assert.ok(mine.every((n) => !n.startsWith('./')));
    // deterministic, bytewise-sorted, directory by directory
    assert.deepEqual(mine.slice(0, 3), ['empty-dir/', 'empty-dir/nested-empty/', 'empty.txt']);
    const v = await verifyArchive(fs.createReadStream(ours));
    assert.equal(v.entries, mine.length);
  });
});

test('sizes of 8 GiB and more use a PAX size record that GNU tar and python read', async () => {
  const t = await tempDir();
  try {
    const size = 9 * 1024 ** 3 + 7;
    const scratch = Buffer.alloc(BLOCK * 4);
    const len = encodeHeader({ name: 'huge.bin', type: TYPE.file, mode: 0o644, uid: 0, gid: 0, size, mtime: 1_700_000_000 }, scratch);
    assert.equal(len, BLOCK * 3, 'PAX header + records + ustar header');
    const file = join(t.path, 'huge-header.tar');
    // header only: listing needs nothing past it (the data would be 9 GiB)
    fs.writeFileSync(file, scratch.subarray(0, len));
    const py = mustRun('python3', ['-c', "import sys,tarfile\ntf=tarfile.open(sys.argv[1],'r:')\nm=tf.next()\nprint(m.name, m.size)", file]);
    assert.equal(py.trim(), `huge.bin ${size}`);
    const gnu = mustRun('sh', ['-c', `tar -tvf "${file}" 2>/dev/null | head -1; true`]);
    assert.match(gnu, new RegExp(`\\b${size}\\b.*huge\\.bin`));
  } finally {
    await t.cleanup();
  }
});
