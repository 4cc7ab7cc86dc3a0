import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { constants as zc } from 'node:zlib';
import { createArchiveFile, extractArchive } from '../../src/archive/index.ts';
import { strategyFor } from '../../src/archive/parallel-gzip.ts';
import { mustRun, randomBytes, snapshot, tempDir } from './helpers.ts';

test('already-compressed slices are deflated with Z_RLE, text with the default strategy', () => {
  assert.equal(strategyFor(randomBytes(1 << 20), 1), zc.Z_RLE);
  assert.equal(strategyFor(Buffer.from('player joined the server at spawn\n'.repeat(40_000)).subarray(0, 1 << 20), 1), zc.Z_DEFAULT_STRATEGY);
  assert.equal(strategyFor(Buffer.alloc(1 << 20), 1), zc.Z_DEFAULT_STRATEGY);
  assert.equal(strategyFor(randomBytes(1 << 20), 0), zc.Z_DEFAULT_STRATEGY, 'level 0 stores anyway');
});

// Output past the inline limit is hashed on the worker thread; the result must be the file's hash.
test('a large archive of mixed random and text data: checksum on the worker, valid for GNU tar, round trip', async () => {
  const t = await tempDir();
  try {
    const src = join(t.path, 'src');
    fs.mkdirSync(join(src, 'world/playerdata'), { recursive: true });
    fs.mkdirSync(join(src, 'config'), { recursive: true });
    fs.writeFileSync(join(src, 'mods.jar'), randomBytes(6 << 20));
    for (let i = 0; i < 300; i++) fs.writeFileSync(join(src, `world/playerdata/p${i}.dat`), randomBytes(2000 + i));
    for (let i = 0; i < 300; i++) fs.writeFileSync(join(src, `config/c${i}.toml`), `key${i} = "value"\n`.repeat(50 + i));
    for (const checksum of ['sha256', 'sha1'] as const) {
      const file = join(t.path, `out-${checksum}.tar.gz`);
      const r = await createArchiveFile(src, file, { checksum });
      assert.ok(r.size > 6 << 20);
      assert.equal(r.checksum, createHash(checksum).update(fs.readFileSync(file)).digest('hex'));
      mustRun('gzip', ['-t', file]);
      assert.equal(mustRun('tar', ['-tzf', file]).trim().split('\n').length, r.files);
      const dst = join(t.path, `dst-${checksum}`);
      fs.mkdirSync(dst);
      await extractArchive(fs.createReadStream(file), dst);
      assert.deepEqual(snapshot(dst), snapshot(src));
    }
  } finally {
    await t.cleanup();
  }
});
