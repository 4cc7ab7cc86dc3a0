/**
 * Our gzip member framing. Each member is an ordinary RFC 1952 member whose header carries
 * FLG.FEXTRA with one subfield, SI1='B' SI2='W', LEN=8: u32 LE total member length in bytes
 * (header to trailer inclusive) and u32 LE uncompressed length. A reader can therefore hop from
 * member to member without inflating, and inflate several at once; every other gzip reader just
 * skips the extra field and sees a plain multi-member .gz.
 */
export const SUBFIELD_ID1 = 0x42; // 'B'
export const SUBFIELD_ID2 = 0x57; // 'W'
export const MEMBER_HEADER_LEN = 24;

const FEXTRA = 0x04;
const FHCRC = 0x02;
const FNAME = 0x08;
const FCOMMENT = 0x10;

/**
 * Rewrites zlib's 10-byte gzip header into ours and returns [header, body] where body is zlib's
 * output after its header (deflate data + CRC32 + ISIZE), so no bytes are copied.
 */
export function frameMember(zlibGzip: Buffer, rawLength: number): [Buffer, Buffer] {
  if (zlibGzip[0] !== 0x1f || zlibGzip[1] !== 0x8b || zlibGzip[3] !== 0) {
    throw new Error('unexpected gzip header from zlib');
  }
  const body = zlibGzip.subarray(10);
  const total = MEMBER_HEADER_LEN + body.length;
  const h = Buffer.allocUnsafe(MEMBER_HEADER_LEN);
  h[0] = 0x1f;
  h[1] = 0x8b;
  h[2] = 8;
  h[3] = FEXTRA;
  h.writeUInt32LE(0, 4); // MTIME 0: identical trees give identical archives
  h[8] = zlibGzip[8]!;
  h[9] = 3; // OS = Unix
  h.writeUInt16LE(12, 10); // XLEN
  h[12] = SUBFIELD_ID1;
  h[13] = SUBFIELD_ID2;
  h.writeUInt16LE(8, 14);
  h.writeUInt32LE(total, 16);
  h.writeUInt32LE(rawLength, 20);
  return [h, body];
}

export type MemberProbe =
  | { kind: 'need-more' }
  | { kind: 'bad-magic' }
  | { kind: 'plain' } // valid gzip header without our subfield: stream-inflate from here on
  | { kind: 'indexed'; memberLength: number; rawLength: number };

/** Inspects the gzip header at buf[off..]. Never reads past buf.length. */
export function probeMember(buf: Buffer, off: number): MemberProbe {
  const avail = buf.length - off;
  if (avail < 2) return { kind: 'need-more' };
  if (buf[off] !== 0x1f || buf[off + 1] !== 0x8b) return { kind: 'bad-magic' };
  if (avail < 10) return { kind: 'need-more' };
  if (buf[off + 2] !== 8) return { kind: 'bad-magic' };
  const flg = buf[off + 3]!;
  if (!(flg & FEXTRA) || flg & (FHCRC | FNAME | FCOMMENT)) return { kind: 'plain' };
  if (avail < 12) return { kind: 'need-more' };
  const xlen = buf.readUInt16LE(off + 10);
  if (avail < 12 + xlen) return { kind: 'need-more' };
  let p = off + 12;
  const end = p + xlen;
  while (p + 4 <= end) {
    const len = buf.readUInt16LE(p + 2);
    if (buf[p] === SUBFIELD_ID1 && buf[p + 1] === SUBFIELD_ID2 && len >= 8 && p + 4 + len <= end) {
      const memberLength = buf.readUInt32LE(p + 4);
      const rawLength = buf.readUInt32LE(p + 8);
      if (memberLength < 12 + xlen + 8) return { kind: 'plain' };
      return { kind: 'indexed', memberLength, rawLength };
    }
    p += 4 + len;
  }
  return { kind: 'plain' };
}
