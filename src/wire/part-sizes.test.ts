import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesInParts, fixedPartSizeFor, grownPartSize, partsForSize, PART_GROWTH_EVERY,
  S3_MAX_OBJECT_SIZE, S3_MAX_PARTS, S3_MAX_PART_SIZE, S3_MIN_PART_SIZE,
} from './part-sizes.ts';

const MiB = 1024 * 1024;

test('parts keep the base size, then double every PART_GROWTH_EVERY parts, capped at 5 GiB', () => {
  assert.equal(grownPartSize(5 * MiB, 1), 5 * MiB);
  assert.equal(grownPartSize(5 * MiB, PART_GROWTH_EVERY), 5 * MiB);
  assert.equal(grownPartSize(5 * MiB, PART_GROWTH_EVERY + 1), 10 * MiB);
  assert.equal(grownPartSize(5 * MiB, 2 * PART_GROWTH_EVERY + 1), 20 * MiB);
  assert.equal(grownPartSize(5 * MiB, S3_MAX_PARTS), S3_MAX_PART_SIZE);
  for (let n = 1; n <= S3_MAX_PARTS; n++) assert.ok(grownPartSize(100 * MiB, n) <= S3_MAX_PART_SIZE);
});

test('from any base S3 accepts, 10,000 parts hold at least 5 TiB', () => {
  for (const base of [S3_MIN_PART_SIZE, 8 * MiB, 100 * MiB, 1024 * MiB, S3_MAX_PART_SIZE]) {
    assert.ok(bytesInParts(base, S3_MAX_PARTS) >= S3_MAX_OBJECT_SIZE, `base ${base}`);
    assert.ok(partsForSize(base, S3_MAX_OBJECT_SIZE) <= S3_MAX_PARTS, `base ${base}`);
  }
});

test('partsForSize and bytesInParts agree (the inverse at every boundary)', () => {
  const base = 5 * MiB;
  assert.equal(partsForSize(base, 1), 1);
  assert.equal(partsForSize(base, 0), 1);
  assert.equal(partsForSize(base, base), 1);
  assert.equal(partsForSize(base, base + 1), 2);
  for (const count of [1, 2, 899, 900, 901, 1800, 1801, 5000, 9999, 10_000]) {
    const bytes = bytesInParts(base, count);
    assert.equal(partsForSize(base, bytes), count, `exactly ${count} parts`);
    assert.equal(partsForSize(base, bytes + 1), count + 1, `one byte more needs part ${count + 1}`);
    assert.equal(bytesInParts(base, count) - bytesInParts(base, count - 1), grownPartSize(base, count));
  }
});

test('a small part size and many parts: 2,500 cut parts of a growing upload sum to the archive', () => {
  // What the daemon does: cut an archive at grownPartSize(base, n) until it is consumed.
  const base = 1000;
  const size = bytesInParts(base, 2500) - 17;
  let left = size;
  let n = 0;
  const sizes: number[] = [];
  while (left > 0) {
    n++;
    const part = Math.min(left, grownPartSize(base, n));
    sizes.push(part);
    left -= part;
  }
  assert.equal(n, 2500);
  assert.equal(partsForSize(base, size), 2500);
  assert.equal(sizes[0], 1000);
  assert.equal(sizes[900], 2000);
  assert.equal(sizes[1800], 4000);
  assert.equal(sizes.reduce((a, b) => a + b, 0), size);
});

test('a fixed-size uploader (Wings) gets a part size that fits its archive in 10,000 parts', () => {
  assert.equal(fixedPartSizeFor(100 * MiB, 1024 * MiB), 100 * MiB);
  const huge = 3 * 1024 * 1024 * MiB;
  const part = fixedPartSizeFor(100 * MiB, huge);
  assert.ok(Math.ceil(huge / part) <= S3_MAX_PARTS);
  assert.ok(part > 100 * MiB);
});
