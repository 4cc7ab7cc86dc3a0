/**
 * Jobs that finished recently, in memory. The panel's reconciler fails an in-progress backup the
 * daemon "does not know"; a job that just finished (its report maybe still on its way) is known.
 * Bounded by age and count; a restart empties it, and then the outbox and journal speak instead.
 */
import type { JobKind } from './job-journal.ts';

export interface RecentJob {
  kind: JobKind;
  backup_uuid: string;
  server_uuid: string;
  successful: boolean;
  failure_reason?: string;
  finished_at: string;
}

const KEEP_MS = 15 * 60_000;
const KEEP_MAX = 500;

export class RecentJobs {
  readonly #jobs: RecentJob[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  add(job: Omit<RecentJob, 'finished_at'>): void {
    this.#jobs.push({ ...job, finished_at: new Date(this.now()).toISOString() });
    this.#trim();
  }

  list(): RecentJob[] {
    this.#trim();
    return [...this.#jobs];
  }

  #trim(): void {
    const cutoff = this.now() - KEEP_MS;
    while (this.#jobs.length > 0 && (this.#jobs.length > KEEP_MAX || Date.parse(this.#jobs[0]!.finished_at) < cutoff)) this.#jobs.shift();
  }
}
