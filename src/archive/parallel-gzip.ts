import { gzip } from 'node:zlib';
import { frameMember } from './gzip-member.ts';
import type { OutputSink } from './output-sink.ts';

/** Size of each tar slice compressed as one independent gzip member. */
export const SLICE = 1 << 20;

interface Pending {
  member: Promise<[Buffer, Buffer]>;
  slab: Buffer;
}

/**
 * Compresses fixed-size slices of the tar stream on the libuv threadpool (zlib's async API runs
 * there, CRC32 included), keeps at most `maxInflight` slices in flight, and writes the framed
 * members to the sink strictly in order. Slabs are recycled once their member is written, so
 * memory is bounded by maxInflight × (slice + compressed slice).
 */
export class ParallelGzip {
  readonly #sink: OutputSink;
  readonly #level: number;
  readonly #maxInflight: number;
  #queue: Pending[] = [];
  #pool: Buffer[] = [];
  members = 0;

  constructor(sink: OutputSink, level: number, maxInflight: number) {
    this.#sink = sink;
    this.#level = level;
    this.#maxInflight = Math.max(1, maxInflight);
  }

  takeSlab(): Buffer {
    return this.#pool.pop() ?? Buffer.allocUnsafe(SLICE);
  }

  /** Queues slab[0..len) for compression; waits only when too many are in flight. */
  async submit(slab: Buffer, len: number): Promise<void> {
    const input = slab.subarray(0, len);
    const member = new Promise<[Buffer, Buffer]>((resolve, reject) => {
      // One output chunk per member: the default 16 KiB chunks cost a threadpool round trip each.
      gzip(input, { level: this.#level, chunkSize: len + (len >> 3) + 1024 }, (err, out) => {
        if (err) reject(err);
        else resolve(frameMember(out, len));
      });
    });
    member.catch(() => undefined); // observed later in #writeHead; avoid an unhandled rejection meanwhile
    this.#queue.push({ member, slab });
    while (this.#queue.length >= this.#maxInflight) await this.#writeHead();
  }

  async #writeHead(): Promise<void> {
    const head = this.#queue.shift()!;
    const [header, body] = await head.member;
    this.#pool.push(head.slab);
    this.members++;
    await this.#sink.write(header);
    await this.#sink.write(body);
  }

  async flush(): Promise<void> {
    while (this.#queue.length > 0) await this.#writeHead();
  }

  /** After a failure: let in-flight compressions finish so no callback touches freed state. */
  async abandon(): Promise<void> {
    const q = this.#queue;
    this.#queue = [];
    await Promise.allSettled(q.map((p) => p.member));
  }
}
