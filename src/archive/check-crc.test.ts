/** The read-back's CRC32 (issue 17): libdeflate's through the addon, zlib's without it, one value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { memberCrc32 } from './check-crc.ts';
import { nativeFs, nativeFsTuning } from './native-fs.ts';

test('the CRC32 of a member is zlib\'s, through the addon and without it, whole or continued, at any offset', () => {
  assert.ok(nativeFs()?.crc32 && nativeFs()?.libdeflate, 'the addon and libdeflate are built and loaded here (npm run build:native)');
  const data = randomBytes((1 << 20) + 333);
  const want = crc32(data);
  for (const native of [true, false]) {
    nativeFsTuning.enabled = native;
    try {
      assert.equal(memberCrc32(data), want);
      // Continued across a cut, from an odd offset of a shared buffer (as the writer's tap sees chunks).
      const cut = 100_001;
      assert.equal(memberCrc32(data.subarray(cut), memberCrc32(data.subarray(0, cut))), want);
      assert.equal(memberCrc32(data.subarray(7, 9000)), crc32(Buffer.from(data.subarray(7, 9000))));
      assert.equal(memberCrc32(Buffer.alloc(0), 0xdeadbeef), 0xdeadbeef);
    } finally {
      nativeFsTuning.enabled = true;
    }
  }
  assert.throws(() => nativeFs()!.crc32!('not bytes' as unknown as Uint8Array), /Uint8Array/);
});
