/**
 * Time-left estimates for running jobs, shared by the web UI and the CLI so both say the same thing.
 * The rate is measured over a sliding window of recent samples (not since the start: a backup's
 * speed changes between many small files and a few big ones). Timestamps are passed in, so the
 * maths is testable without clocks.
 */
import type { TotalSource } from '../wire/ws-events.ts';

const WINDOW_MS = 15_000;
/** Below this span of samples a rate is noise. */
const MIN_SPAN_MS = 1_500;

export class RateMeter {
  readonly #samples: Array<{ at: number; done: number }> = [];

  push(done: number, at: number): void {
    const last = this.#samples.at(-1);
    // A value going backwards means a new job reused the meter: start over.
    if (last && done < last.done) this.#samples.length = 0;
    this.#samples.push({ at, done });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second over the window, or null until there is enough of it. */
  rate(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at - first.at < MIN_SPAN_MS) return null;
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }

  /** Seconds left for `total`, or null while unknown (no total, no rate yet, or stalled). */
  secondsLeft(total: number | null): number | null {
    const last = this.#samples.at(-1);
    const rate = this.rate();
    if (total === null || !last || rate === null || rate <= 0) return null;
    return Math.max(0, (total - last.done) / rate);
  }
}

/** "a few seconds left", "about 40 s left", "about 3 min left", "about 1 h 20 min left". */
export function formatTimeLeft(seconds: number): string {
  if (seconds < 10) return 'a few seconds left';
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `about ${h} h left` : `about ${h} h ${m} min left`;
}

/** Says what the percentage is measured against, for everything but an exact archive size. */
export function totalSourceNote(source: TotalSource | undefined): string | null {
  if (source === 'scan') return 'estimated from a scan of the files';
  if (source === 'previous') return 'estimated from the previous backup';
  return null;
}

/** The whole phrase: "about 3 min left (estimated from the previous backup)", or null while unknown. */
export function describeTimeLeft(seconds: number | null, source: TotalSource | undefined): string | null {
  if (seconds === null) return null;
  const note = totalSourceNote(source);
  return note ? `${formatTimeLeft(seconds)} (${note})` : formatTimeLeft(seconds);
}
