/**
 * Progress display. A bar only when stderr is a terminal and the caller did not ask for --json:
 * bars in logs and pipes are noise, and scripts read stdout, which never carries progress.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** value and total in bytes; total null while unknown. */
  update(value: number, total: number | null): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

export function shouldShowProgress(json: boolean, stream: NodeJS.WriteStream = process.stderr): boolean {
  return !json && stream.isTTY === true && !process.env.NO_PROGRESS;
}

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      format: `${opts.label} [{bar}] {percentage}% {done}/{size} {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total) {
      // An unknown total shows as a bar that fills with the value itself, never over 100%.
      const size = total && total > 0 ? total : Math.max(value, 1);
      const payload = { done: formatBytes(value), size: total && total > 0 ? formatBytes(total) : '?' };
      if (!started) {
        bar.start(size, Math.min(value, size), payload);
        started = true;
      } else {
        bar.setTotal(size);
        bar.update(Math.min(value, size), payload);
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
