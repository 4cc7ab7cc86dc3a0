/**
 * Progress display. A bar only when stderr is a terminal and the caller did not ask for --json:
 * bars in logs and pipes are noise, and scripts read stdout, which never carries progress.
 * The line is ours, not cli-progress's defaults: with no total yet it says how much was read
 * (never a fake "100%"), and the time left comes from the shared RateMeter, with where the total
 * came from when it is an estimate.
 */
import cliProgress from 'cli-progress';
import { RateMeter, describeTimeLeft } from '../../core/eta.ts';
import type { TotalSource } from '../../wire/ws-events.ts';

export interface Progress {
  /** value and total in bytes; total null while unknown. */
  update(value: number, total: number | null, source?: TotalSource): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
  /** For tests: the clock the rate is measured with. */
  now?: () => number;
}

export function shouldShowProgress(json: boolean, stream: NodeJS.WriteStream = process.stderr): boolean {
  return !json && stream.isTTY === true && !process.env.NO_PROGRESS;
}

/** The text after the bar: "42% 120 MiB/300 MiB about 3 min left (…)" or "120 MiB read". */
export function progressLine(value: number, total: number | null, timeLeft: string | null): string {
  if (total === null || total <= 0) return `${formatBytes(value)} read`;
  const pct = Math.min(100, Math.floor((value / total) * 100));
  const head = `${pct}% ${formatBytes(value)}/${formatBytes(total)}`;
  return timeLeft ? `${head} ${timeLeft}` : head;
}

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled) return { update() {}, stop() {} };
  const now = opts.now ?? Date.now;
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      format: `${opts.label} [{bar}] {line}`,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const meter = new RateMeter();
  let started = false;
  return {
    update(value, total, source) {
      meter.push(value, now());
      const known = total !== null && total > 0;
      // An unknown total shows an empty bar and the bytes read, never a full one.
      const size = known ? total : 1;
      const shown = known ? Math.min(value, total) : 0;
      const line = progressLine(value, known ? total : null, known ? describeTimeLeft(meter.secondsLeft(total), source) : null);
      if (!started) {
        bar.start(size, shown, { line });
        started = true;
      } else {
        bar.setTotal(size);
        bar.update(shown, { line });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
