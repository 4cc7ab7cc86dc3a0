/**
 * ustar header encoding with PAX extended records where ustar cannot hold a value, and decoding of
 * ustar, PAX, GNU long names and base-256 numbers (what GNU tar, bsdtar and Python write).
 */
import { isUtf8 } from 'node:buffer';

export const BLOCK = 512;

export const TYPE = {
  file: 0x30, // '0'
  oldFile: 0x00,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
  contiguous: 0x37,
  paxLocal: 0x78, // 'x'
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
} as const;

const OCTAL_11_MAX = 0o77777777777; // 8 GiB - 1: the largest size/mtime an 11-digit field holds
const OCTAL_7_MAX = 0o7777777;

export interface HeaderFields {
  name: string; // directories end with '/'
  type: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number; // seconds
  linkname?: string;
  /** The name's raw bytes when they are not valid UTF-8 (`name` then only serves messages). */
  rawName?: Buffer;
  /** The link target's raw bytes when they are not valid UTF-8. */
  rawLinkname?: Buffer;
}

const GNU_LONG_LINK_NAME = '././@LongLink';

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function writeOctal(buf: Buffer, off: number, width: number, value: number): void {
  // width includes the terminating NUL; digits are written right to left (no string per field)
  let v = Math.max(0, Math.floor(value));
  buf[off + width - 1] = 0;
  for (let i = off + width - 2; i >= off; i--) {
    buf[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Splits a name into ustar prefix/name when that is possible, else null. */
function splitUstar(name: string): { prefix: string; base: string } | null {
  if (name.length <= 100) return { prefix: '', base: name };
  if (name.length > 256) return null;
  // The prefix ends at a '/' and holds at most 155 bytes; the rest (non-empty) at most 100.
  const cut = name.lastIndexOf('/', Math.min(155, name.length - 2));
  if (cut <= 0) return null;
  const base = name.slice(cut + 1);
  if (base.length > 100) return null;
  return { prefix: name.slice(0, cut), base };
}

/** splitUstar() for raw bytes. */
function splitUstarBytes(name: Buffer): { prefix: Buffer; base: Buffer } | null {
  if (name.length <= 100) return { prefix: EMPTY, base: name };
  if (name.length > 256) return null;
  const cut = name.lastIndexOf(0x2f, Math.min(155, name.length - 2));
  if (cut <= 0) return null;
  const base = name.subarray(cut + 1);
  if (base.length > 100) return null;
  return { prefix: name.subarray(0, cut), base };
}

const EMPTY = Buffer.alloc(0);

function putField(buf: Buffer, off: number, len: number, v: string | Buffer): void {
  if (typeof v === 'string') buf.write(v, off, len, 'utf8');
  else v.copy(buf, off, 0, Math.min(len, v.length));
}

/**
 * A GNU 'L'/'K' entry carrying raw name bytes. Used for names that are not valid UTF-8 and too long
 * for ustar: GNU tar, bsdtar and Python read it, and unlike a PAX path it needs no charset.
 */
function writeGnuLong(scratch: Buffer, off: number, type: number, bytes: Buffer, mtime: number): number {
  writeUstar(scratch, off, { name: GNU_LONG_LINK_NAME, type, mode: 0o644, uid: 0, gid: 0, size: bytes.length + 1, mtime }, GNU_LONG_LINK_NAME, '', '');
  bytes.copy(scratch, off + BLOCK);
  const padded = Math.ceil((bytes.length + 1) / BLOCK) * BLOCK;
  scratch.fill(0, off + BLOCK + bytes.length, off + BLOCK + padded);
  return off + BLOCK + padded;
}

function paxRecord(key: string, value: string): string {
  const bodyLen = Buffer.byteLength(` ${key}=${value}\n`, 'utf8');
  // The length prefix counts its own digits.
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len} ${key}=${value}\n`;
}

/** Fills one 512-byte ustar header at buf[off..off+512). Assumes the values fit (caller checks). */
function writeUstar(buf: Buffer, off: number, h: HeaderFields, name: string | Buffer, prefix: string | Buffer, linkname: string | Buffer): void {
  buf.fill(0, off, off + BLOCK);
  putField(buf, off, 100, name);
  writeOctal(buf, off + 100, 8, h.mode & 0o7777);
  writeOctal(buf, off + 108, 8, h.uid > OCTAL_7_MAX ? 0 : h.uid);
  writeOctal(buf, off + 116, 8, h.gid > OCTAL_7_MAX ? 0 : h.gid);
  writeOctal(buf, off + 124, 12, h.size > OCTAL_11_MAX ? 0 : h.size);
  writeOctal(buf, off + 136, 12, h.mtime < 0 || h.mtime > OCTAL_11_MAX ? 0 : h.mtime);
  buf[off + 156] = h.type;
  if (linkname.length > 0) putField(buf, off + 157, 100, linkname);
  buf.write('ustar\u000000', off + 257, 8, 'latin1');
  if (prefix.length > 0) putField(buf, off + 345, 155, prefix);
  buf.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + BLOCK; i++) sum += buf[i]!;
  writeOctal(buf, off + 148, 7, sum);
  buf[off + 155] = 0x20;
}

/**
 * Encodes the header(s) for one entry into `scratch` starting at `base` and returns the byte length
 * (512, or PAX header + records + 512). `scratch` must be large enough (see headerSpace()).
 */
export function encodeHeader(h: HeaderFields, scratch: Buffer, base = 0): number {
  const linkname = h.linkname ?? '';
  const records: string[] = [];
  const gnuMtime = Math.max(0, Math.min(h.mtime, OCTAL_11_MAX));
  let off = base;
  let ustarName: string | Buffer = h.name;
  let ustarPrefix: string | Buffer = '';
  if (h.rawName) {
    const split = splitUstarBytes(h.rawName);
    if (split) {
      ustarName = split.base;
      ustarPrefix = split.prefix;
    } else {
      off = writeGnuLong(scratch, off, TYPE.gnuLongName, h.rawName, gnuMtime);
      ustarName = h.rawName.subarray(0, 100);
    }
  } else {
    const split = isPlainAscii(h.name) ? splitUstar(h.name) : null;
    if (split) {
      ustarName = split.base;
      ustarPrefix = split.prefix;
    } else {
      records.push(paxRecord('path', h.name));
      ustarName = asciiFallback(h.name, 100);
    }
  }
  let ustarLink: string | Buffer = linkname;
  if (h.rawLinkname) {
    ustarLink = h.rawLinkname;
    if (h.rawLinkname.length > 100) {
      off = writeGnuLong(scratch, off, TYPE.gnuLongLink, h.rawLinkname, gnuMtime);
      ustarLink = h.rawLinkname.subarray(0, 100);
    }
  } else if (linkname && (!isPlainAscii(linkname) || linkname.length > 100)) {
    records.push(paxRecord('linkpath', linkname));
    ustarLink = asciiFallback(linkname, 100);
  }
  if (h.size > OCTAL_11_MAX) records.push(paxRecord('size', String(h.size)));
  if (h.mtime < 0 || h.mtime > OCTAL_11_MAX) records.push(paxRecord('mtime', String(Math.floor(h.mtime))));
  if (h.uid > OCTAL_7_MAX) records.push(paxRecord('uid', String(h.uid)));
  if (h.gid > OCTAL_7_MAX) records.push(paxRecord('gid', String(h.gid)));

  if (records.length > 0) {
    const body = Buffer.from(records.join(''), 'utf8');
    const paxName = asciiFallback(`PaxHeaders/${h.name.slice(h.name.replace(/\/$/, '').lastIndexOf('/') + 1)}`, 100);
    writeUstar(scratch, off, { name: paxName, type: TYPE.paxLocal, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: Math.max(0, Math.min(h.mtime, OCTAL_11_MAX)) }, paxName, '', '');
    body.copy(scratch, off + BLOCK);
    const padded = Math.ceil(body.length / BLOCK) * BLOCK;
    scratch.fill(0, off + BLOCK + body.length, off + BLOCK + padded);
    off += BLOCK + padded;
  }
  writeUstar(scratch, off, h, ustarName, ustarPrefix, ustarLink);
  return off + BLOCK - base;
}

/** Upper bound of encodeHeader()'s output for these strings. */
export function headerSpace(name: string | Buffer, linkname: string | Buffer = ''): number {
  const bytes = Buffer.byteLength(name) + Buffer.byteLength(linkname);
  // ustar + PAX header + up to two GNU long-name headers, and the bodies (a raw name is also
  // counted in the PAX records' display form only when it is not raw, so 2× bytes covers both).
  return BLOCK * 5 + Math.ceil((2 * bytes + 256) / BLOCK) * BLOCK;
}

function asciiFallback(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c >= 0x20 && c <= 0x7e ? ch : '_';
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}

// ---------------------------------------------------------------- decoding

export interface ParsedHeader {
  name: string;
  type: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  /** Raw bytes of the name / link target, set only when they are not valid UTF-8. */
  rawName?: Buffer;
  rawLinkname?: Buffer;
}

/** A NUL-terminated field's bytes (a view into buf). */
function cfield(buf: Buffer, off: number, len: number): Buffer {
  let end = off;
  const max = off + len;
  while (end < max && buf[end] !== 0) end++;
  return buf.subarray(off, end);
}

/**
 * Names are bytes. Valid UTF-8 becomes the string; anything else keeps a copy of its raw bytes
 * (the text then has replacement characters and only serves messages and listings).
 */
export function decodeName(bytes: Buffer): { text: string; raw?: Buffer } {
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return { text };
  return { text, raw: Buffer.from(bytes) };
}

/** Parses an octal field, or a GNU base-256 field (high bit set). NaN when malformed. */
export function parseNumeric(buf: Buffer, off: number, len: number): number {
  const first = buf[off]!;
  if (first & 0x80) {
    if (first === 0xff) return Number.NaN; // negative base-256: never valid for us
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i]!;
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  while (i < end) {
    const c = buf[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return Number.NaN;
    v = v * 8 + (c - 0x30);
    digits++;
    i++;
  }
  return digits === 0 ? 0 : v;
}

export function isZeroBlock(buf: Buffer, off: number): boolean {
  for (let i = off; i < off + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Verifies the header checksum (unsigned sum, or the signed sum some old writers used). */
export function checksumOk(buf: Buffer, off: number): boolean {
  const stored = parseNumeric(buf, off + 148, 8);
  if (Number.isNaN(stored)) return false;
  // The checksum field itself counts as eight spaces.
  let unsigned = 8 * 0x20;
  for (let i = off; i < off + 148; i++) unsigned += buf[i]!;
  for (let i = off + 156; i < off + BLOCK; i++) unsigned += buf[i]!;
  if (stored === unsigned) return true;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = buf[off + i]!;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === signed;
}

/**
 * A NUL-terminated text field, decoded: plain ASCII (nearly every name) straight to a one-byte
 * string without a view or a UTF-8 check, anything else through decodeName. Per header this ran
 * three times; the views and checks were a visible share of extracting 54,000 small files.
 */
function textField(buf: Buffer, off: number, len: number): { text: string; raw?: Buffer } | string {
  let end = off;
  const max = off + len;
  let high = 0;
  for (; end < max; end++) {
    const c = buf[end]!;
    if (c === 0) break;
    high |= c;
  }
  if (end === off) return '';
  if ((high & 0x80) === 0) return buf.toString('latin1', off, end);
  return decodeName(buf.subarray(off, end));
}

/** Decodes the fixed fields; PAX/GNU overrides are applied by the parser. */
export function decodeHeader(buf: Buffer, off: number): ParsedHeader {
  let name = textField(buf, off, 100);
  // "ustar\0": only then the prefix field is a prefix (GNU's "ustar  " uses it otherwise).
  const ustar = buf[off + 257] === 0x75 && buf[off + 258] === 0x73 && buf[off + 259] === 0x74 && buf[off + 260] === 0x61 && buf[off + 261] === 0x72 && buf[off + 262] === 0;
  if (ustar && buf[off + 345] !== 0) {
    const prefix = textField(buf, off + 345, 155);
    if (typeof prefix === 'string' && typeof name === 'string') name = `${prefix}/${name}`;
    else name = decodeName(Buffer.concat([cfield(buf, off + 345, 155), SLASH, cfield(buf, off, 100)]));
  }
  const link = buf[off + 157] === 0 ? '' : textField(buf, off + 157, 100);
  const h: ParsedHeader = {
    name: typeof name === 'string' ? name : name.text,
    type: buf[off + 156]!,
    mode: parseNumeric(buf, off + 100, 8),
    uid: parseNumeric(buf, off + 108, 8),
    gid: parseNumeric(buf, off + 116, 8),
    size: parseNumeric(buf, off + 124, 12),
    mtime: parseNumeric(buf, off + 136, 12),
    linkname: typeof link === 'string' ? link : link.text,
  };
  if (typeof name !== 'string' && name.raw) h.rawName = name.raw;
  if (typeof link !== 'string' && link.raw) h.rawLinkname = link.raw;
  return h;
}

const SLASH = Buffer.from('/');

/** Parses PAX records ("len key=value\n"...). Throws a string reason on malformed input. */
export function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of parsePaxRaw(body)) out.set(k, v.toString('utf8'));
  return out;
}

/**
 * parsePax() with the values' raw bytes: with `hdrcharset=BINARY` (bsdtar's choice for names that
 * are not UTF-8) a path is bytes, not text.
 */
export function parsePaxRaw(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break; // some writers pad with NULs
    let sp = i;
    while (sp < body.length && body[sp] !== 0x20) sp++;
    const len = Number(body.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= sp - i || i + len > body.length) throw new Error('malformed PAX record length');
    const eq = body.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= i + len - 1) throw new Error('malformed PAX record');
    out.set(body.toString('utf8', sp + 1, eq), body.subarray(eq + 1, i + len - 1));
    i += len;
  }
  return out;
}
