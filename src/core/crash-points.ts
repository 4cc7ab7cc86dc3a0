/**
 * Named points between two durable writes where a crash leaves the panel and a daemon disagreeing
 * (issue 12). Production code calls `crashPoint(name)`; it does nothing unless a test armed it:
 *
 * - in-process (`armCrashPoint`): the flow stops there for good — the promise never settles, as if
 *   the process had died between the writes — and the test "restarts" by opening a new context;
 * - in a child process (env `BACKWING_CRASH_AT=name[,name]`): the process kills itself with SIGKILL.
 */
const armed = new Map<string, () => void>();

export const CRASH_POINTS = [
  'backup.create:before-daemon',
  'backup.delete:before-remove',
  'backup.delete:before-purged',
  'backup.restore:before-daemon',
  'backup.report:after-s3-complete',
] as const;
export type CrashPointName = (typeof CRASH_POINTS)[number];

/** Arms `name` once in this process; `onHit` runs when a flow stops there. Returns a disarm function. */
export function armCrashPoint(name: CrashPointName, onHit: () => void = () => undefined): () => void {
  armed.set(name, onHit);
  return () => armed.delete(name);
}

export async function crashPoint(name: CrashPointName): Promise<void> {
  const hit = armed.get(name);
  if (hit) {
    armed.delete(name);
    hit();
    await new Promise<never>(() => undefined);
  }
  const env = process.env.BACKWING_CRASH_AT;
  if (env && env.split(',').includes(name)) {
    process.kill(process.pid, 'SIGKILL');
    await new Promise<never>(() => undefined);
  }
}
