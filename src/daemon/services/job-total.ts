/**
 * What a running job's progress is measured against (`total_bytes` and `total_source` of the
 * websocket progress events). A restore knows its archive's size; a backup starts from the size
 * the server's previous backup read and switches to the pre-scan's figure once it is in.
 */
import type { TotalSource } from '../../wire/ws-events.ts';

export class JobTotal {
  #bytes: number | null = null;
  #source: TotalSource | undefined;

  constructor(initial?: { bytes: number; source: TotalSource } | null) {
    if (initial) this.set(initial.bytes, initial.source);
  }

  set(bytes: number, source: TotalSource): void {
    if (!Number.isFinite(bytes) || bytes < 0) return;
    this.#bytes = bytes;
    this.#source = source;
  }

  /** The job's end: the total is what was really read; the source stays what the estimate was. */
  finish(bytes: number): void {
    this.set(bytes, this.#source ?? 'scan');
  }

  /** The wire fields for a snapshot; the total never falls below what has already been read. */
  fields(done: number): { total_bytes: number | null; total_source?: TotalSource } {
    if (this.#bytes === null) return { total_bytes: null };
    return { total_bytes: Math.max(this.#bytes, done), total_source: this.#source! };
  }
}
