import type { ArchiveProgress } from './types.ts';

/** Calls `cb` at most every `intervalMs`, plus once at the end; never lets a callback error escape. */
export class ProgressThrottle {
  readonly #cb?: (p: ArchiveProgress) => void;
  readonly #intervalMs: number;
  #last = 0;

  constructor(cb: ((p: ArchiveProgress) => void) | undefined, intervalMs = 100) {
    this.#cb = cb;
    this.#intervalMs = intervalMs;
  }

  get enabled(): boolean {
    return this.#cb !== undefined;
  }

  tick(p: () => ArchiveProgress): void {
    if (!this.#cb) return;
    const now = Date.now();
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    this.#emit(p());
  }

  final(p: ArchiveProgress): void {
    if (this.#cb) this.#emit(p);
  }

  #emit(p: ArchiveProgress): void {
    try {
      this.#cb!(p);
    } catch {
      // A broken progress listener must not break the archive.
    }
  }
}
