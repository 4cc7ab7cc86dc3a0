/**
 * A service's heap strategy follows its load. Idle, the panel and the daemon keep V8's smaller heap
 * strategies (`--optimize-for-size`): the daemon alone idles at 79–80 MiB RSS with it, 82–86 without
 * (`backwing daemon`, ten seconds after start, three runs each). Busy, the same flag makes V8 collect
 * far more often: a daemon restore of the 54,000-file tree cost 7.1–8.0 CPU-s with it and 4.3–4.5
 * without, a backup of it 13.6 against 8.3 (bench/daemon.bench.ts's tree, one restore after another
 * in the same process; most of the difference is GC threads). So the flag is on only while the
 * process is quiet: a look at its own CPU time four times a second turns it off as soon as it works (a
 * backup, a restore, a burst of API requests) and back on after a quiet spell. V8 reads this flag
 * when it decides (the figures above were measured by switching it in a running daemon), so each
 * switch takes effect at once. The young generation likewise: fixed while quiet
 * (`--semi-space-growth-factor=1`), growing as V8's default (2) while busy. Fixed, it cost the daemon
 * nothing measurable, but the panel's client API under load collected far more often: the backup
 * list took 126 µs of CPU per request against 90–95 growing (PostgreSQL, 50 connections, the two
 * builds side by side in one run, three rounds; docs/benchmarks.md, the load section).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type HeapMode = 'small' | 'fast';

export interface HeapFootprintOptions {
  /** Share of one core, over one sample, that makes the process busy. */
  busyShare?: number;
  /** Share of one core under which a sample counts as quiet. */
  quietShare?: number;
  /** Quiet samples in a row before the small heap comes back. */
  quietSamples?: number;
  /** Samples ignored at first: start-up's module loading is not work. */
  warmupSamples?: number;
}

/** The decision alone, fed CPU samples, so it is tested without clocks or V8. */
export class HeapFootprint {
  mode: HeapMode = 'small';
  readonly #busyShare: number;
  readonly #quietShare: number;
  readonly #quietSamples: number;
  #warmup: number;
  #quietRun = 0;

  constructor(opts: HeapFootprintOptions = {}) {
    this.#busyShare = opts.busyShare ?? 0.5;
    this.#quietShare = opts.quietShare ?? 0.1;
    this.#quietSamples = opts.quietSamples ?? 80;
    this.#warmup = opts.warmupSamples ?? 20;
  }

  /** One sample: CPU microseconds used over `wallMicros`. Returns the mode to switch to, if it changes. */
  sample(cpuMicros: number, wallMicros: number): HeapMode | null {
    if (this.#warmup > 0) {
      this.#warmup--;
      return null;
    }
    const share = wallMicros > 0 ? cpuMicros / wallMicros : 0;
    if (share >= this.#busyShare) {
      this.#quietRun = 0;
      return this.#switch('fast');
    }
    this.#quietRun = share < this.#quietShare ? this.#quietRun + 1 : 0;
    return this.#quietRun >= this.#quietSamples ? this.#switch('small') : null;
  }

  #switch(mode: HeapMode): HeapMode | null {
    if (this.mode === mode) return null;
    this.mode = mode;
    return mode;
  }
}

const SAMPLE_MS = 250;

/**
 * `gc` from a fresh context (Node 20 exposes it there once --expose-gc is set). A V8 that does not
 * gives nothing to call, and the service starts anyway: the collection is a nicety, not a need.
 */
function exposedGc(): () => void {
  try {
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through
  }
  return () => {};
}

/** For the service commands: the fixed young generation, the small heap, and the watcher that lifts it under load. */
export function startHeapFootprint(opts: HeapFootprintOptions = {}): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
  // A full collection when the quiet spell begins gives back what the work left: V8 alone would keep
  // the grown heap until its next collection, which an idle process may not need for hours.
  setFlagsFromString('--expose-gc');
  const collect = exposedGc();
  const footprint = new HeapFootprint(opts);
  let cpu = process.cpuUsage();
  let at = process.hrtime.bigint();
  setInterval(() => {
    const nowCpu = process.cpuUsage();
    const now = process.hrtime.bigint();
    const used = nowCpu.user - cpu.user + (nowCpu.system - cpu.system);
    const change = footprint.sample(used, Number(now - at) / 1000);
    cpu = nowCpu;
    at = now;
    if (change === 'fast') {
      setFlagsFromString('--no-optimize-for-size');
      setFlagsFromString('--semi-space-growth-factor=2');
    }
    if (change === 'small') {
      setFlagsFromString('--semi-space-growth-factor=1');
      setFlagsFromString('--optimize-for-size');
      collect();
    }
  }, SAMPLE_MS).unref();
}
