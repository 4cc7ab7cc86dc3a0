import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTree, run, snapshot, tempDir } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [BIN, 'archive', ...args]);

test('backwing archive create/verify/list/extract through the CLI', async () => {
  const t = await tempDir('bw-cli-');
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    buildTree(src);
    const ignoreFile = join(t.path, 'ignore.txt');
    fs.writeFileSync(ignoreFile, 'logs/\n');
    const file = join(t.path, 'out.tar.gz');

    const c = cli('create', src, '-o', file, '--ignore-file', ignoreFile, '--level', 'best_compression', '--checksum', 'sha1', '--write-limit', '0');
    assert.equal(c.status, 0, c.stderr);
    const sha1 = createHash('sha1').update(fs.readFileSync(file)).digest('hex');
    assert.match(c.stdout, new RegExp(`size: ${fs.statSync(file).size}\\n`));
    assert.match(c.stdout, new RegExp(`checksum: sha1:${sha1}`));
    assert.equal(c.stderr, '', 'no progress bar when stderr is not a TTY');

    const j = cli('create', src, '-o', join(t.path, 'j.tar.gz'), '--json');
    assert.equal(j.status, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as { size: number; checksum: string; checksum_type: string };
    assert.equal(parsed.checksum_type, 'sha256');
    assert.match(parsed.checksum, /^sha256:[0-9a-f]{64}$/);

    const v = cli('verify', file, '--json');
    assert.equal(v.status, 0, v.stderr);
    const vr = JSON.parse(v.stdout) as { ok: boolean; parallelIndexed: boolean; entries: number };
    assert.equal(vr.ok, true);
    assert.equal(vr.parallelIndexed, true);

    const l = cli('list', file);
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stdout, /symlink .* level-link -> world\/level\.dat/);
    assert.doesNotMatch(l.stdout, /logs\//);
    assert.equal(l.stdout.trim().split('\n').length, vr.entries);

    const out = join(t.path, 'out');
    const x = cli('extract', file, '-C', out);
    assert.equal(x.status, 0, x.stderr);
    const expected = snapshot(src);
    for (const k of Object.keys(expected)) if (k === 'logs' || k.startsWith('logs/')) delete expected[k];
    assert.deepEqual(snapshot(out), expected);

    // failures are one clear line and a non-zero exit
    const bad = join(t.path, 'bad.tar.gz');
    fs.writeFileSync(bad, fs.readFileSync(file).subarray(0, 200));
    const vb = cli('verify', bad);
    assert.notEqual(vb.status, 0);
    assert.match(vb.stderr, /E_ARCHIVE_TRUNCATED/);
    const lvl = cli('create', src, '-o', join(t.path, 'x.tar.gz'), '--level', 'fastest');
    assert.notEqual(lvl.status, 0);
    assert.match(lvl.stderr, /best_speed/);
    const missing = cli('extract', join(t.path, 'nope.tar.gz'), '-C', out);
    assert.equal(missing.status, 2);

    // Without the native addon the archive is the same and the slower path says so, once, in a line.
    const slow = run(process.execPath, [BIN, 'archive', 'create', src, '-o', join(t.path, 'slow.tar.gz')], { env: { BACKWING_NATIVE_FS: '0' } });
    assert.equal(slow.status, 0, slow.stderr);
    assert.match(slow.stderr, /^backwing: native fs addon not loaded.*\{"reason":"BACKWING_NATIVE_FS=0"\}\n$/);
  } finally {
    await t.cleanup();
  }
});
