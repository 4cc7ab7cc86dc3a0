import { ArchiveError } from './archive-error.ts';
import { nativeFs } from './native-fs.ts';
import { BLOCK, checksumOk, decodeHeader, decodeName, isZeroBlock, parsePaxRaw, TYPE, type ParsedHeader } from './tar-header.ts';

const MAX_META = 1 << 20; // PAX / GNU long-name bodies larger than this are not plausible
/** Numbers per entry from the addon's scanHeaders (native/src/backwing_fs.c SCAN_FIELDS). */
const SCAN_FIELDS = 10;
/** Entries decoded per scanHeaders call (one 1 MiB chunk of small files holds a few hundred). */
const SCAN_MAX = 256;

/** A header as the stream yields it: the decoded fields plus where it sits in the tar stream. */
export interface TarEntry extends ParsedHeader {
  /** Offset of the entry's header in the tar stream. */
  offset: number;
  /** Offset of its first header: the PAX or GNU long-name record before it, if any, else `offset`. */
  start: number;
}

export interface EntryBody {
  write(chunk: Buffer): void;
  end(): void;
}

export interface EntryHandler {
  /** Returns a sink for the entry's data, or null to discard it. */
  onEntry(entry: TarEntry): EntryBody | null;
}

/** Types whose size field means "this many data bytes follow" (regular, contiguous, unknown). */
function hasData(type: number): boolean {
  return !(type >= TYPE.hardlink && type <= TYPE.fifo);
}

type State = 'header' | 'meta' | 'data' | 'pad' | 'end';

/**
 * Push parser for ustar/PAX/GNU tar. Synchronous: the handler does its work (e.g. a sync write)
 * inside write(), so the caller's pacing of push() is the only backpressure needed.
 */
export class TarParser {
  readonly #handler: EntryHandler;
  #state: State = 'header';
  #offset = 0;
  #hdr = Buffer.alloc(BLOCK);
  #hdrFill = 0;
  #zeroBlocks = 0;
  #remaining = 0;
  #pad = 0;
  #body: EntryBody | null = null;
  #current: TarEntry | null = null;
  #metaKind = 0;
  #meta: Buffer | null = null;
  #metaFill = 0;
  #pax: Map<string, Buffer> | null = null;
  #longName: Buffer | null = null;
  #longLink: Buffer | null = null;
  #start = 0;
  entries = 0;
  bytes = 0;
  #scan: Float64Array | null = null;

  constructor(handler: EntryHandler) {
    this.#handler = handler;
  }

  get currentName(): string | null {
    return this.#current?.name ?? null;
  }

  get ended(): boolean {
    return this.#state === 'end';
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case 'end':
          return; // trailing record padding
        case 'header': {
          if (this.#hdrFill === 0 && n - i >= BLOCK) {
            const j = this.#pax === null && this.#longName === null && this.#longLink === null ? this.#plainRun(chunk, i) : i;
            if (j !== i) {
              i = j;
              break;
            }
            this.#header(chunk, i);
            i += BLOCK;
            this.#offset += BLOCK;
          } else {
            const k = Math.min(BLOCK - this.#hdrFill, n - i);
            chunk.copy(this.#hdr, this.#hdrFill, i, i + k);
            this.#hdrFill += k;
            i += k;
            if (this.#hdrFill === BLOCK) {
              this.#hdrFill = 0;
              this.#header(this.#hdr, 0);
              this.#offset += BLOCK;
            }
          }
          break;
        }
        case 'meta': {
          const k = Math.min(this.#remaining, n - i);
          chunk.copy(this.#meta!, this.#metaFill, i, i + k);
          this.#metaFill += k;
          this.#remaining -= k;
          i += k;
          this.#offset += k;
          if (this.#remaining === 0) {
            this.#finishMeta();
            this.#state = this.#pad > 0 ? 'pad' : 'header';
          }
          break;
        }
        case 'data': {
          const k = Math.min(this.#remaining, n - i);
          if (this.#body) this.#body.write(chunk.subarray(i, i + k));
          this.#remaining -= k;
          i += k;
          this.#offset += k;
          if (this.#remaining === 0) this.#finishEntry();
          break;
        }
        case 'pad': {
          const k = Math.min(this.#pad, n - i);
          this.#pad -= k;
          i += k;
          this.#offset += k;
          if (this.#pad === 0) this.#state = 'header';
          break;
        }
      }
    }
  }

  /** Call at end of input; throws if the stream stopped inside an entry or before the end marker. */
  end(): void {
    if (this.#state === 'end') return;
    if (this.#state === 'data') {
      throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream inside entry ${JSON.stringify(this.#current?.name)} (${this.#current!.size - this.#remaining} of ${this.#current!.size} bytes)`);
    }
    if (this.#state === 'pad') {
      throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream in the padding after entry ${JSON.stringify(this.#current?.name)}`);
    }
    if (this.#state === 'meta') throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream inside an extended header at offset ${this.#offset}`);
    if (this.#hdrFill > 0) throw new ArchiveError('E_ARCHIVE_TRUNCATED', `unexpected end of stream inside a tar header at offset ${this.#offset}`);
    // One zero block is what some writers leave; GNU tar accepts it with a warning.
    if (this.#zeroBlocks >= 1) return;
    throw new ArchiveError('E_ARCHIVE_TRUNCATED', `the tar stream ends without its end-of-archive marker (at offset ${this.#offset})`);
  }

  /**
   * Plain entries from `i` on (each wholly in this chunk), decoded by the addon in one call
   * instead of one #header() each; returns where it stopped (`i` when nothing was plain or there
   * is no addon). The same entries as #header() would make, in the same order and with the same
   * handler calls: scanHeaders decodes only what decodeHeader decodes to these same values (ASCII
   * text, plain octal, unsigned checksum, no extended header pending or next) and leaves anything
   * else, including every error, to #header().
   */
  #plainRun(chunk: Buffer, i: number): number {
    const nfs = nativeFs();
    if (!nfs) return i;
    const out = (this.#scan ??= new Float64Array(SCAN_MAX * SCAN_FIELDS));
    const count = nfs.scanHeaders(chunk, i, out, SCAN_MAX);
    if (count === 0) return i;
    this.#zeroBlocks = 0;
    const base = this.#offset - i;
    let next = i;
    for (let k = 0; k < count; k++) {
      const o = k * SCAN_FIELDS;
      const at = out[o]!;
      const type = out[o + 1]!;
      const size = out[o + 5]!;
      const prefixEnd = out[o + 8]!;
      const linkEnd = out[o + 9]!;
      const base0 = chunk.toString('latin1', at, at + out[o + 7]!);
      const name = prefixEnd > 0 ? `${chunk.toString('latin1', at + 345, at + prefixEnd)}/${base0}` : base0;
      const linkname = linkEnd > 0 ? chunk.toString('latin1', at + 157, at + linkEnd) : '';
      const offset = base + at;
      const entry: TarEntry = { name, type, mode: out[o + 2]!, uid: out[o + 3]!, gid: out[o + 4]!, size, mtime: out[o + 6]!, linkname, offset, start: offset };
      this.#current = entry;
      this.entries++;
      const body = this.#handler.onEntry(entry);
      const dataLen = hasData(type) ? size : 0;
      if (body && dataLen > 0) body.write(chunk.subarray(at + BLOCK, at + BLOCK + dataLen));
      body?.end();
      next = at + BLOCK + dataLen + ((BLOCK - (dataLen % BLOCK)) % BLOCK);
    }
    this.#offset = base + next;
    return next;
  }

  #header(buf: Buffer, off: number): void {
    if (isZeroBlock(buf, off)) {
      if (++this.#zeroBlocks >= 2) this.#state = 'end';
      return;
    }
    this.#zeroBlocks = 0;
    if (this.#pax === null && this.#longName === null && this.#longLink === null) this.#start = this.#offset;
    if (!checksumOk(buf, off)) throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad tar header checksum at offset ${this.#offset}`);
    const h = decodeHeader(buf, off);
    if (Number.isNaN(h.size) || Number.isNaN(h.mode) || Number.isNaN(h.mtime)) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad numeric field in the tar header at offset ${this.#offset}`);
    }
    if (h.size > Number.MAX_SAFE_INTEGER) throw new ArchiveError('E_ARCHIVE_CORRUPT', `impossible entry size at offset ${this.#offset}`);
    const t = h.type;
    if (t === TYPE.paxLocal || t === TYPE.paxGlobal || t === TYPE.gnuLongName || t === TYPE.gnuLongLink) {
      if (h.size > MAX_META) throw new ArchiveError('E_ARCHIVE_CORRUPT', `extended header of ${h.size} bytes at offset ${this.#offset} is too large`);
      this.#metaKind = t;
      this.#meta = Buffer.allocUnsafe(h.size);
      this.#metaFill = 0;
      this.#remaining = h.size;
      this.#pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
      if (h.size === 0) this.#finishMeta();
      else this.#state = 'meta';
      return;
    }
    const pax = this.#pax;
    let name = h.name;
    let linkname = h.linkname;
    let rawName = h.rawName;
    let rawLinkname = h.rawLinkname;
    let size = h.size;
    let mtime = h.mtime;
    let uid = h.uid;
    let gid = h.gid;
    // Bytes either way: with hdrcharset=BINARY PAX names may not be UTF-8, and then they stay raw.
    const nameBytes = pax?.get('path') ?? this.#longName;
    if (nameBytes != null) ({ text: name, raw: rawName } = decodeName(nameBytes));
    const linkBytes = pax?.get('linkpath') ?? this.#longLink;
    if (linkBytes != null) ({ text: linkname, raw: rawLinkname } = decodeName(linkBytes));
    if (pax) {
      const s = pax.get('size')?.toString('latin1');
      if (s !== undefined) {
        size = Number(s);
        if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveError('E_ARCHIVE_CORRUPT', `bad PAX size at offset ${this.#offset}`);
      }
      const m = pax.get('mtime')?.toString('latin1');
      if (m !== undefined && Number.isFinite(Number(m))) mtime = Math.floor(Number(m));
      const u = pax.get('uid')?.toString('latin1');
      if (u !== undefined && Number.isFinite(Number(u))) uid = Number(u);
      const g = pax.get('gid')?.toString('latin1');
      if (g !== undefined && Number.isFinite(Number(g))) gid = Number(g);
    }
    this.#pax = null;
    this.#longName = null;
    this.#longLink = null;
    const dataLen = hasData(t) ? size : 0;
    const entry: TarEntry = { name, type: t, mode: h.mode, uid, gid, size, mtime, linkname, offset: this.#offset, start: this.#start };
    if (rawName) entry.rawName = rawName;
    if (rawLinkname) entry.rawLinkname = rawLinkname;
    this.#current = entry;
    this.entries++;
    this.#body = this.#handler.onEntry(entry);
    this.#remaining = dataLen;
    this.#pad = (BLOCK - (dataLen % BLOCK)) % BLOCK;
    if (dataLen === 0) this.#finishEntry();
    else this.#state = 'data';
  }

  #finishEntry(): void {
    const body = this.#body;
    this.#body = null;
    body?.end();
    this.#state = this.#pad > 0 ? 'pad' : 'header';
  }

  #finishMeta(): void {
    const body = this.#meta!;
    this.#meta = null;
    const kind = this.#metaKind;
    if (kind === TYPE.gnuLongName || kind === TYPE.gnuLongLink) {
      let end = body.indexOf(0);
      if (end < 0) end = body.length;
      const s = body.subarray(0, end);
      if (kind === TYPE.gnuLongName) this.#longName = s;
      else this.#longLink = s;
      return;
    }
    let records: Map<string, Buffer>;
    try {
      records = parsePaxRaw(body);
    } catch (err) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `${(err as Error).message} before offset ${this.#offset}`);
    }
    // Global headers would change how later entries are named; nothing we write or accept needs them.
    if (kind === TYPE.paxLocal) this.#pax = records;
  }
}
