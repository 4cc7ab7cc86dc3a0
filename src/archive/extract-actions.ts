import { TYPE } from './tar-header.ts';
import type { EntryBody, EntryHandler, TarEntry } from './tar-parser.ts';

/** Regular files up to this size are gathered whole and written in a batch (the writer thread's bound). */
export const SMALL_FILE_MAX = 1 << 20;
/**
 * The same bound when the native writer (extract-native-writer.ts) writes them: it takes the bytes
 * where they lie, with no copy into a batch buffer, so files of a few MiB (jars, region files) can
 * go there too instead of being written by the main thread, the critical path (on the mixed bench
 * tree, 60 files of 1-4 MiB are 103 of its 214 MiB). Memory stays bounded: at most the open batch,
 * MAX_QUEUED queued ones and the one being written, each under BATCH_BYTES plus one such file. At
 * 8 MiB the large bench tree's peak RSS rose from 129 to 174 MiB (the bar is 200), at 4 MiB less.
 */
export const NATIVE_SMALL_FILE_MAX = 4 << 20;

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

  constructor(readonly smallMax = SMALL_FILE_MAX) {}

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
    if (entry.size <= this.smallMax) {
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
