import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeapFootprint } from './heap-footprint.ts';

const SAMPLE = 250_000; // µs of wall time per sample

test('start-up is ignored, work lifts the small heap at once, a quiet spell brings it back', () => {
  const f = new HeapFootprint({ warmupSamples: 2, quietSamples: 3 });
  assert.equal(f.sample(SAMPLE, SAMPLE), null, 'module loading at start-up is not work');
  assert.equal(f.sample(SAMPLE, SAMPLE), null);
  assert.equal(f.mode, 'small');

  assert.equal(f.sample(0.6 * SAMPLE, SAMPLE), 'fast', 'a job or a burst of requests: fast at the first busy sample');
  assert.equal(f.sample(1.8 * SAMPLE, SAMPLE), null, 'already fast (two cores busy)');

  assert.equal(f.sample(0, SAMPLE), null);
  assert.equal(f.sample(0.2 * SAMPLE, SAMPLE), null, 'between quiet and busy: not quiet, the run starts again');
  assert.equal(f.sample(0, SAMPLE), null);
  assert.equal(f.sample(0.01 * SAMPLE, SAMPLE), null);
  assert.equal(f.mode, 'fast');
  assert.equal(f.sample(0, SAMPLE), 'small', 'three quiet samples in a row');
  assert.equal(f.sample(0, SAMPLE), null, 'already small');
});

test('a busy sample during the quiet run keeps it fast', () => {
  const f = new HeapFootprint({ warmupSamples: 0, quietSamples: 2 });
  assert.equal(f.sample(SAMPLE, SAMPLE), 'fast');
  assert.equal(f.sample(0, SAMPLE), null);
  assert.equal(f.sample(SAMPLE, SAMPLE), null);
  assert.equal(f.sample(0, SAMPLE), null);
  assert.equal(f.sample(0, SAMPLE), 'small');
  assert.equal(f.sample(0, 0), null, 'a zero-length sample counts as quiet, never divides by zero');
});
