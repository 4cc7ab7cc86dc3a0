/** A FIFO of buffers that hands out exact-length slices, copying only when a slice spans chunks. */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #head = 0; // offset into #chunks[0]
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.#chunks.push(b);
    this.length += b.length;
  }

  /** The first n bytes (n <= length) without consuming them. */
  peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    return this.#gather(n, false);
  }

  take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#advance(n);
      return out;
    }
    return this.#gather(n, true);
  }

  /** Everything queued, consumed. */
  drain(): Buffer[] {
    const out = this.#chunks.map((c, i) => (i === 0 ? c.subarray(this.#head) : c));
    this.#chunks = [];
    this.#head = 0;
    this.length = 0;
    return out;
  }

  #gather(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let idx = 0;
    let head = this.#head;
    while (filled < n) {
      const c = this.#chunks[idx]!;
      const k = Math.min(n - filled, c.length - head);
      c.copy(out, filled, head, head + k);
      filled += k;
      head = 0;
      idx++;
    }
    if (consume) this.#advance(n);
    return out;
  }

  #advance(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      const left = c.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#head = 0;
    }
  }
}
