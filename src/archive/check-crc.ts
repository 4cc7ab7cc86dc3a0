import { crc32 } from 'node:zlib';
import { nativeFs } from './native-fs.ts';

/**
 * The CRC-32 a local backup's read-back compares (check-behind.ts): computed once over each member
 * as the writer passes it to the file and once over the bytes read back. Through libdeflate's
 * carry-less-multiply CRC from the addon when it is there (25 ms for the small bench tree's 172 MiB
 * archive against 131 ms for zlib.crc32 here: native/src/verify_crc.c); zlib's otherwise, the same
 * value.
 */
export function memberCrc32(data: Uint8Array, initial = 0): number {
  const nfs = nativeFs();
  return nfs?.libdeflate && nfs.crc32 ? nfs.crc32(data, initial) : crc32(data, initial);
}
