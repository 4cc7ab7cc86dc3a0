import { TYPE } from './tar-header.ts';
import type { EntryBody, EntryHandler, TarEntry } from './tar-parser.ts';

/** Regular files up to this size are gathered whole and written by one pooled async job. */
export const SMALL_FILE_MAX = 1 << 20;

/** A small regular file gathered whole; it is its own body sink (no closures per entry). */
export class SmallAction implements EntryBody {
  readonly kind = 'small';
  readonly chunks: Buffer[] = [];
  constructor(
    readonly entry: TarEntry,
    readonly collector: ActionCollector,
  ) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  end(): void {
    // The collector's list at the end: an entry spanning input chunks completes in a later list.
    this.collector.actions.push(this);
  }
}

export type Action =
  | SmallAction
  | { kind: 'open'; entry: TarEntry }
  | { kind: 'data'; chunk: Buffer }
  | { kind: 'close' }
  | { kind: 'other'; entry: TarEntry };

function isRegular(t: number): boolean {
  return t === TYPE.file || t === TYPE.oldFile || t === TYPE.contiguous;
}

/**
 * Turns the parser's synchronous callbacks into an ordered list of actions the async executor
 * runs after each push. Chunk references are kept, not copied: inflated buffers are never reused.
 */
export class ActionCollector implements EntryHandler {
  actions: Action[] = [];

  take(): Action[] {
    const a = this.actions;
    this.actions = [];
    return a;
  }

  onEntry(entry: TarEntry): EntryBody | null {
    if (!isRegular(entry.type)) {
      this.actions.push({ kind: 'other', entry });
      return null;
    }
    if (entry.size <= SMALL_FILE_MAX) {
      const action = new SmallAction(entry, this);
      if (entry.size === 0) {
        this.actions.push(action);
        return null;
      }
      return action;
    }
    this.actions.push({ kind: 'open', entry });
    return {
      write: (chunk) => this.actions.push({ kind: 'data', chunk }),
      end: () => this.actions.push({ kind: 'close' }),
    };
  }
}
