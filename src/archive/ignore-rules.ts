import { AppError } from '../core/app-error.ts';

/** Limits that keep matching cheap: a hostile list must be refused, not make the backup crawl. */
export const IGNORE_MAX_BYTES = 32 * 1024;
export const IGNORE_MAX_PATTERNS = 1000;
export const IGNORE_MAX_PATTERN_LENGTH = 4096;
export const IGNORE_MAX_WILDCARDS = 16;

export type Token =
  | { k: 'lit'; c: number }
  | { k: 'any' }
  | { k: 'star' }
  | { k: 'class'; neg: boolean; ranges: number[] };

/** One path segment of a pattern: `**` (any number of segments) or a glob for exactly one segment. */
export type Segment = { globstar: true } | { globstar: false; tokens: Token[]; literal: string | null };

export interface Rule {
  negate: boolean;
  dirOnly: boolean;
  /** Unanchored rules (no inner slash) match the last path segment at any depth. */
  anchored: boolean;
  segments: Segment[];
  hasGlobstar: boolean;
  source: string;
}

function ignoreError(code: string, message: string, meta?: Record<string, unknown>): AppError {
  return new AppError(code, 400, message, { meta });
}

/**
 * Parses a .gitignore-style list. Follows git's rules: `#` comments, trailing spaces trimmed unless
 * escaped, `!` negation, `\#`/`\!` escapes, trailing `/` = directories only, a slash at the start or
 * in the middle anchors the pattern at the root, `**` as a whole segment spans directories, `*`, `?`
 * and `[...]` never match `/`. Later rules win. No RegExp is built, so patterns cannot cause
 * catastrophic backtracking; a segment match is O(name × pattern) at worst.
 */
export function parseIgnore(text: string, source = 'ignore'): Rule[] {
  if (Buffer.byteLength(text, 'utf8') > IGNORE_MAX_BYTES) {
    throw ignoreError('E_IGNORE_TOO_LARGE', `the ${source} list may not be larger than 32 KiB`, { source });
  }
  const rules: Rule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const rule = parseLine(lines[i]!, i + 1, source);
    if (!rule) continue;
    rules.push(rule);
    if (rules.length > IGNORE_MAX_PATTERNS) {
      throw ignoreError('E_IGNORE_TOO_MANY_PATTERNS', `the ${source} list may not contain more than ${IGNORE_MAX_PATTERNS} patterns`, { source });
    }
  }
  return rules;
}

function parseLine(raw: string, lineNo: number, source: string): Rule | null {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.startsWith('#')) return null;
  // Trailing spaces go unless the last one is escaped with a backslash.
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 32) {
    if (end >= 2 && line.charCodeAt(end - 2) === 92) break;
    end--;
  }
  line = line.slice(0, end);
  if (line === '') return null;
  const bad = (why: string) => ignoreError('E_IGNORE_PATTERN', `${source} pattern on line ${lineNo} ${why}: ${JSON.stringify(raw.slice(0, 80))}`, { source, line: lineNo });
  if (line.length > IGNORE_MAX_PATTERN_LENGTH) throw bad(`is longer than ${IGNORE_MAX_PATTERN_LENGTH} characters`);
  if (line.includes('\0')) throw bad('contains a NUL character');

  let negate = false;
  if (line.startsWith('!')) {
    negate = true;
    line = line.slice(1);
  } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
    line = line.slice(1);
  }
  let dirOnly = false;
  if (line.endsWith('/') && !line.endsWith('\\/')) {
    dirOnly = true;
    line = line.replace(/\/+$/, '');
  }
  if (line === '') return null;
  let anchored = false;
  if (line.startsWith('/')) {
    anchored = true;
    line = line.replace(/^\/+/, '');
    if (line === '') return null;
  } else if (line.includes('/')) {
    anchored = true;
  }

  const segments: Segment[] = [];
  let wildcards = 0;
  let hasGlobstar = false;
  for (const part of line.split('/')) {
    if (part === '') continue; // `a//b` behaves like `a/b`
    // Git's wildmatch treats any run of two or more stars that fills a whole segment as `**`
    // (found by the generated comparison with the `ignore` package: `***/x` matched `a/b/x` there).
    if (part.length >= 2 && /^\*+$/.test(part)) {
      if (segments.length > 0 && segments[segments.length - 1]!.globstar) continue;
      segments.push({ globstar: true });
      hasGlobstar = true;
      wildcards++;
      continue;
    }
    const tokens = tokenize(part, bad);
    wildcards += tokens.filter((t) => t.k === 'star').length;
    const literal = tokens.every((t) => t.k === 'lit') ? String.fromCharCode(...tokens.map((t) => (t as { c: number }).c)) : null;
    segments.push({ globstar: false, tokens, literal });
  }
  if (wildcards > IGNORE_MAX_WILDCARDS) throw bad(`has more than ${IGNORE_MAX_WILDCARDS} wildcards`);
  if (segments.length === 0) return null;
  return { negate, dirOnly, anchored, segments, hasGlobstar, source: raw };
}

function tokenize(part: string, bad: (why: string) => AppError): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 >= part.length) throw bad('ends with a lone backslash');
      out.push({ k: 'lit', c: part.charCodeAt(++i) });
    } else if (c === 42 /* * */) {
      // `**` inside a segment is just `*`; runs collapse so matching stays linear-ish.
      if (out.length === 0 || out[out.length - 1]!.k !== 'star') out.push({ k: 'star' });
    } else if (c === 63 /* ? */) {
      out.push({ k: 'any' });
    } else if (c === 91 /* [ */) {
      const parsed = parseClass(part, i);
      if (!parsed) throw bad('has an unterminated [ class');
      out.push(parsed.token);
      i = parsed.end;
    } else {
      out.push({ k: 'lit', c });
    }
  }
  return out;
}

function parseClass(s: string, start: number): { token: Token; end: number } | null {
  let i = start + 1;
  let neg = false;
  if (s[i] === '!' || s[i] === '^') {
    neg = true;
    i++;
  }
  const ranges: number[] = [];
  let first = true;
  while (i < s.length) {
    let c = s.charCodeAt(i);
    if (c === 93 /* ] */ && !first) return { token: { k: 'class', neg, ranges }, end: i };
    first = false;
    if (c === 92 && i + 1 < s.length) c = s.charCodeAt(++i);
    let hi = c;
    if (s[i + 1] === '-' && i + 2 < s.length && s[i + 2] !== ']') {
      hi = s.charCodeAt(i + 2);
      if (hi === 92 && i + 3 < s.length) {
        hi = s.charCodeAt(i + 3);
        i++;
      }
      i += 2;
    }
    ranges.push(Math.min(c, hi), Math.max(c, hi));
    i++;
  }
  return null;
}

function matchToken(t: Token, c: number): boolean {
  switch (t.k) {
    case 'lit':
      return t.c === c;
    case 'any':
      return true;
    case 'class': {
      let hit = false;
      for (let r = 0; r < t.ranges.length; r += 2) {
        if (c >= t.ranges[r]! && c <= t.ranges[r + 1]!) {
          hit = true;
          break;
        }
      }
      return hit !== t.neg;
    }
    default:
      return false;
  }
}

/** Glob match of one segment; backtracks only to the last star, so it is O(n × m) at worst. */
function matchSegment(seg: Segment & { globstar: false }, s: string): boolean {
  if (seg.literal !== null) return seg.literal === s;
  const tokens = seg.tokens;
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    if (ti < tokens.length) {
      const t = tokens[ti]!;
      if (t.k === 'star') {
        starTi = ti++;
        starSi = si;
        continue;
      }
      if (matchToken(t, s.charCodeAt(si))) {
        ti++;
        si++;
        continue;
      }
    }
    if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
      continue;
    }
    return false;
  }
  while (ti < tokens.length && tokens[ti]!.k === 'star') ti++;
  return ti === tokens.length;
}

/** Segment-list match where `**` spans zero or more segments (one or more when it is last). */
function matchSegments(segs: Segment[], parts: string[]): boolean {
  const P = segs.length;
  const S = parts.length;
  // reach[s] = pattern prefix [0..p) can consume exactly parts [0..s)
  let reach = new Uint8Array(S + 1);
  reach[0] = 1;
  for (let p = 0; p < P; p++) {
    const seg = segs[p]!;
    const next = new Uint8Array(S + 1);
    let any = false;
    if (seg.globstar) {
      const last = p === P - 1;
      let open = false;
      for (let s = 0; s <= S; s++) {
        if (open) {
          next[s] = 1;
          any = true;
        }
        if (reach[s]) {
          open = true;
          if (!last) {
            next[s] = 1;
            any = true;
          }
        }
      }
    } else {
      for (let s = 0; s < S; s++) {
        if (reach[s] && matchSegment(seg, parts[s]!)) {
          next[s + 1] = 1;
          any = true;
        }
      }
    }
    if (!any) return false;
    reach = next;
  }
  return reach[S] === 1;
}

function ruleMatches(rule: Rule, parts: string[], isDir: boolean): boolean {
  if (rule.dirOnly && !isDir) return false;
  if (!rule.anchored) {
    // No inner slash: the pattern is matched against the name alone, at any depth.
    if (rule.segments.length === 1) {
      const seg = rule.segments[0]!;
      if (seg.globstar) return true;
      return matchSegment(seg, parts[parts.length - 1]!);
    }
    return matchSegments([{ globstar: true }, ...rule.segments], parts);
  }
  if (!rule.hasGlobstar) {
    if (rule.segments.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) {
      if (!matchSegment(rule.segments[i] as Segment & { globstar: false }, parts[i]!)) return false;
    }
    return true;
  }
  return matchSegments(rule.segments, parts);
}

export class IgnoreMatcher {
  readonly #rules: Rule[];
  constructor(rules: Rule[]) {
    this.#rules = rules;
  }

  static from(...lists: Array<{ text: string; source: string }>): IgnoreMatcher {
    return new IgnoreMatcher(lists.flatMap((l) => parseIgnore(l.text, l.source)));
  }

  get size(): number {
    return this.#rules.length;
  }

  /**
   * Whether this exact path is ignored (its parents are assumed not to be: the walker never descends
   * into an ignored directory). `rel` uses `/` separators and has no leading `./`.
   */
  matches(rel: string, isDir: boolean): boolean {
    const rules = this.#rules;
    if (rules.length === 0) return false;
    const parts = rel.split('/');
    for (let i = rules.length - 1; i >= 0; i--) {
      const r = rules[i]!;
      if (ruleMatches(r, parts, isDir)) return !r.negate;
    }
    return false;
  }

  /** Full git answer for a path: ignored if it or any parent directory is ignored. */
  ignores(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (this.matches(parts.slice(0, i).join('/'), true)) return true;
    }
    return this.matches(rel, isDir);
  }
}

/** Throws the 400 AppError the daemon returns for an unusable `ignore` string. Cheap. */
export function validateIgnore(ignore: string): void {
  parseIgnore(ignore, 'ignore');
}

/** One list of patterns and where it came from (for messages and for showing every source). */
export interface IgnoreSource {
  source: string;
  text: string;
}

/**
 * Several lists as one, lowest precedence first (the last match wins, so a later list can
 * re-include what an earlier one left out). Each list is checked on its own, so an error names
 * the list it is in; the result is checked against the size caps too.
 */
export function mergeIgnoreSources(sources: readonly IgnoreSource[]): string {
  const parts: string[] = [];
  for (const s of sources) {
    if (s.text.trim() === '') continue;
    parseIgnore(s.text, s.source);
    parts.push(s.text.endsWith('\n') ? s.text : `${s.text}\n`);
  }
  const merged = parts.join('');
  parseIgnore(merged, 'merged ignore');
  return merged;
}
