import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createArchive } from '../../src/archive/index.ts';
import { randomBytes, tempDir } from './helpers.ts';

// The one test that measures time: the limit must hold within 5% over a run of at least 10 s.
test('write limit holds within 5% over ~10 s', { timeout: 30_000 }, async () => {
  const t = await tempDir();
  try {
    const rate = 400 * 1024; // bytes per second
    const src = join(t.path, 'src');
    fs.mkdirSync(src);
    // incompressible, so the output is about the input size: ~4 MiB → ~10.2 s at this rate
    for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `r${i}.bin`), randomBytes(1 << 20));
    fs.writeFileSync(join(src, 'tail.bin'), randomBytes(32 * 1024));
    let first = 0;
    let last = 0;
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        const now = performance.now();
        if (first === 0) first = now;
        last = now;
        bytes += chunk.length;
        cb();
      },
    });
    const started = performance.now();
    const r = await createArchive(src, sink, { writeLimit: rate, level: 'none' });
    const elapsed = (performance.now() - started) / 1000;
    assert.equal(bytes, r.size);
    assert.ok(elapsed >= 10, `ran ${elapsed.toFixed(2)} s`);
    const measured = r.size / elapsed;
    const error = Math.abs(measured - rate) / rate;
    assert.ok(error < 0.05, `measured ${Math.round(measured)} B/s vs limit ${rate} B/s (${(error * 100).toFixed(2)}% off)`);
    // and the pacing is steady: the span between first and last write carries the same rate
    const steady = (r.size - 0) / ((last - first) / 1000);
    assert.ok(Math.abs(steady - rate) / rate < 0.05, `steady rate ${Math.round(steady)} B/s`);
  } finally {
    await t.cleanup();
  }
});
