import { constants as zc, gzip } from 'node:zlib';
import { frameMember } from './gzip-member.ts';
import { nativeFs, type NativeFs } from './native-fs.ts';
import type { OutputSink } from './output-sink.ts';

/** Size of each tar slice compressed as one independent gzip member. */
export const SLICE = 1 << 20;

/** Four 4 KiB samples spread over the slice. */
const SAMPLES = 4;
const SAMPLE_LEN = 4096;
/** Order-0 entropy (bits per byte) above which a slice is treated as already compressed. */
const INCOMPRESSIBLE_BITS = 7.0;
const counts = new Uint32Array(256);

/**
 * Deflate at level 1 is at its slowest on data that is already compressed (jars, player .dat
 * files, region chunks): every byte is hashed and searched for matches that are not there. For a
 * slice whose sampled bytes look random, Z_RLE (only runs, i.e. zero padding and tar header
 * fields, plus Huffman coding) costs a fraction of the CPU for about the same output. Measured on
 * the bench trees' tar streams in 1 MiB slices, gzipSync, one core:
 *   small tree: level 1 4.22 s CPU, 179,124,577 B → this choice 2.95 s, 180,468,751 B (+0.75%)
 *   mixed tree: level 1 3.90 s CPU, 167,424,644 B → 2.62 s, 168,081,204 B (+0.39%)
 * A byte histogram of 16 KiB classifies slices like trial-deflating 24 KiB of them did, at a tenth
 * of the cost (~0.1 ms per slice; zlib's per-call set-up dominated the trial). Either way the
 * member is ordinary deflate that every gzip reader inflates.
 */
export function strategyFor(slice: Buffer, level: number): number {
  if (level === 0 || slice.length < SAMPLES * SAMPLE_LEN * 4) return zc.Z_DEFAULT_STRATEGY;
  counts.fill(0);
  for (let k = 0; k < SAMPLES; k++) {
    const off = Math.floor(((slice.length - SAMPLE_LEN) * k) / (SAMPLES - 1));
    for (let i = off; i < off + SAMPLE_LEN; i++) counts[slice[i]!]!++;
  }
  const n = SAMPLES * SAMPLE_LEN;
  let bits = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]!;
    if (c > 0) bits -= (c / n) * Math.log2(c / n);
  }
  return bits > INCOMPRESSIBLE_BITS ? zc.Z_RLE : zc.Z_DEFAULT_STRATEGY;
}

interface Pending {
  member: Promise<[Buffer, Buffer]>;
  slab: Buffer;
}

/**
 * Compresses fixed-size slices of the tar stream on the libuv threadpool (zlib's async API runs
 * there, CRC32 included) and writes the framed members to the sink strictly in order.
 *
 * Three things overlap: the producer filling the next slab, up to `maxInflight` compressions,
 * and a writer loop pushing finished members into the sink (which may wait for 'drain'). The
 * producer only waits when `maxPending` slabs are queued or compressing, so memory stays bounded
 * at about maxPending × (slice + compressed slice) while a slow output never idles the compressors.
 */
export class ParallelGzip {
  readonly #sink: OutputSink;
  readonly #level: number;
  readonly #maxPending: number;
  #queue: Pending[] = [];
  #pool: Buffer[] = [];
  #writer: Promise<void> | null = null;
  #error: unknown = null;
  #slotWaiter: (() => void) | null = null;
  members = 0;
  /** Told each member's compressed length as it is written, in order (the backup index). */
  readonly #onMember: ((length: number) => void) | undefined;

  constructor(sink: OutputSink, level: number, maxInflight: number, onMember?: (length: number) => void) {
    this.#onMember = onMember;
    this.#sink = sink;
    this.#level = level;
    this.#maxPending = Math.max(2, maxInflight + 2);
  }

  takeSlab(): Buffer {
    return this.#pool.pop() ?? Buffer.allocUnsafe(SLICE);
  }

  /** Queues slab[0..len) for compression; waits only when too many slabs are outstanding. */
  async submit(slab: Buffer, len: number): Promise<void> {
    if (this.#error) throw this.#error;
    const input = slab.subarray(0, len);
    const nfs = this.#level > 0 ? nativeFs() : null;
    const member = nfs?.libdeflate ? this.#libdeflate(nfs, input) : this.#zlib(input);
    member.catch(() => undefined); // observed by the writer loop; avoid an unhandled rejection meanwhile
    this.#queue.push({ member, slab });
    this.#writer ??= this.#writeLoop();
    while (this.#queue.length >= this.#maxPending && !this.#error) {
      await new Promise<void>((resolve) => (this.#slotWaiter = resolve));
    }
    if (this.#error) throw this.#error;
  }

  /**
   * Levels 1-9 through libdeflate (native addon). Level 1 (best_speed, the default) on the small
   * bench tree's tar in 1 MiB slices, one core: 2.47 CPU-s and 177.8 MB against zlib's 3.37 s and
   * 180.5 MB with the Z_RLE choice below (compressible slices 1.06 s vs 1.89 s; random-looking ones
   * 1.41 s vs 1.48 s, so no strategy choice is needed). The other levels go the same way, so that
   * best_compression never comes out bigger than libdeflate's best_speed, and faster too (first
   * 60 MiB of that tar: level 6 1.36 vs 2.29 s, level 9 1.29 vs 1.69 s, same size). Still one ordinary gzip
   * member per slice, framed the same way.
   */
  #libdeflate(nfs: NativeFs, input: Buffer): Promise<[Buffer, Buffer]> {
    const len = input.length;
    const out = Buffer.allocUnsafe(len + (len >> 3) + 1024);
    return nfs.gzipMember(input, out, this.#level).then((n) => (n > 0 ? frameMember(out.subarray(0, n), len) : this.#zlib(input)));
  }

  #zlib(input: Buffer): Promise<[Buffer, Buffer]> {
    const len = input.length;
    const strategy = strategyFor(input, this.#level);
    return new Promise<[Buffer, Buffer]>((resolve, reject) => {
      // One output chunk per member: the default 16 KiB chunks cost a threadpool round trip each.
      // memLevel 9 (a 512 KiB hash table instead of 256 KiB): on the bench tree's tar, 1 MiB
      // slices at level 1 took 4.13 s instead of 4.78 s of CPU per 300 MiB (-14%), with slightly
      // smaller output (252.59 vs 252.68 MB) — measured with zlib.gzipSync over the same slices.
      gzip(input, { level: this.#level, memLevel: 9, strategy, chunkSize: len + (len >> 3) + 1024 }, (err, out) => {
        if (err) reject(err);
        else resolve(frameMember(out, len));
      });
    });
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0]!;
        const [header, body] = await head.member;
        await this.#sink.write(header);
        await this.#sink.write(body);
        this.#queue.shift();
        this.#pool.push(head.slab);
        this.members++;
        this.#onMember?.(header.length + body.length);
        this.#wake();
      }
    } catch (err) {
      this.#error = err;
      this.#wake();
    } finally {
      this.#writer = null;
    }
  }

  #wake(): void {
    const w = this.#slotWaiter;
    this.#slotWaiter = null;
    w?.();
  }

  async flush(): Promise<void> {
    while (this.#writer) await this.#writer;
    if (this.#error) throw this.#error;
  }

  /** After a failure: let in-flight compressions finish so no callback touches freed state. */
  async abandon(): Promise<void> {
    this.#error ??= new Error('abandoned');
    const q = this.#queue;
    await Promise.allSettled(q.map((p) => p.member));
    if (this.#writer) await this.#writer.catch(() => undefined);
    this.#queue = [];
  }
}
