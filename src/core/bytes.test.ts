import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortBytes } from './bytes.ts';

const GiB = 1024 ** 3;

test('quota figures read "3.2 GiB of 10 GiB": one decimal at most, none when whole', () => {
  assert.equal(`${shortBytes(3.2 * GiB)} of ${shortBytes(10 * GiB)}`, '3.2 GiB of 10 GiB');
  assert.equal(shortBytes(0), '0 B');
  assert.equal(shortBytes(512), '512 B');
  assert.equal(shortBytes(1536), '1.5 KiB');
  assert.equal(shortBytes(5 * 1024 ** 4), '5 TiB');
});
