/**
 * The ignore lists (`.pteroignore`, then the request's list: the same input the tar.gz walker
 * takes) as restic `--exclude` patterns, so a restic snapshot leaves out the same files.
 *
 * restic's matcher (internal/filter) differs from gitignore in ways this translation closes:
 * - a relative pattern matches a run of components anywhere in the *absolute* path, so `volumes`
 *   would hit the server directory's own parents: every pattern is anchored at the server's
 *   directory (`/<root>/…` for anchored rules, `/<root>/**\/…` for unanchored ones);
 * - a pattern also matches every path *below* what it matches. Without negations that is what
 *   gitignore does too (an excluded directory is never entered), so positive rules translate
 *   one to one;
 * - gitignore's trailing `a/**` matches inside `a` only; restic's `**` may match nothing, so it
 *   becomes `a/**\/*`;
 * - restic cannot tell a directory from a file, so a directory-only rule (`logs/`) becomes
 *   `logs/*`: a *file* named `logs` is kept (as gitignore keeps it) and everything inside a
 *   directory `logs` is left out, but the directory itself is kept, empty. That empty directory
 *   is the one documented difference (docs/restic.md).
 * - Go's `filepath.Match` spells classes `[^…]` and rejects `]` first in a class: classes are
 *   re-emitted from the parsed ranges with every character escaped, so they mean the same.
 * - A negation (`!keep`) is refused: restic applies it to everything below what it matches
 *   (`*.txt` then `!keep` keeps `keep/a.txt`, which gitignore leaves out), which no rewrite of the
 *   pattern can undo. Refusing is better than a snapshot that quietly holds other files.
 */
import { AppError } from '../core/app-error.ts';
import { parseIgnore, type Rule, type Segment, type Token } from './ignore-rules.ts';

export const E_IGNORE_RESTIC = 'E_IGNORE_RESTIC';

/** Characters `filepath.Match` gives a meaning; escaped with a backslash when literal. */
const SPECIAL = new Set(['\\', '*', '?', '[', ']', '-', '^']);

function escapeChar(c: number): string {
  const ch = String.fromCharCode(c);
  return SPECIAL.has(ch) ? `\\${ch}` : ch;
}

/** A literal path component (the server directory's own names): never a pattern. */
export function escapeResticLiteral(name: string): string {
  let out = '';
  for (const ch of name) out += SPECIAL.has(ch) ? `\\${ch}` : ch;
  // filepath.Clean (restic cleans every pattern) would drop or fold `.`/`..`; escaped, they stay
  // literal, and like in gitignore they never match a real name.
  return out === '.' || out === '..' ? out.replace(/\./g, '\\.') : out;
}

function tokenText(t: Token): string {
  switch (t.k) {
    case 'lit':
      return escapeChar(t.c);
    case 'any':
      return '?';
    case 'star':
      return '*';
    case 'class': {
      let body = '';
      for (let r = 0; r < t.ranges.length; r += 2) {
        const lo = t.ranges[r]!;
        const hi = t.ranges[r + 1]!;
        body += lo === hi ? `\\${String.fromCharCode(lo)}` : `\\${String.fromCharCode(lo)}-\\${String.fromCharCode(hi)}`;
      }
      return `[${t.neg ? '^' : ''}${body}]`;
    }
  }
}

function segmentText(seg: Segment): string {
  if (seg.globstar) return '**';
  const text = seg.tokens.map(tokenText).join('');
  return text === '.' || text === '..' ? text.replace(/\./g, '\\.') : text;
}

function translate(rule: Rule, rootParts: string[]): string {
  const parts = rule.segments.map(segmentText);
  // gitignore: a trailing `**` is one or more levels; restic's may be zero.
  if (rule.segments[rule.segments.length - 1]!.globstar) parts.push('*');
  if (rule.dirOnly) parts.push('*');
  const lead = rule.anchored || rule.segments[0]!.globstar ? [] : ['**'];
  return ['', ...rootParts, ...lead, ...parts].join('/');
}

export interface IgnoreList {
  text: string;
  source: string;
}

/**
 * restic `--exclude` patterns for a backup of `root` (an absolute, symlink-free path: restic
 * matches against the path it reads, which is the real one). Throws a 400 AppError
 * (`E_IGNORE_RESTIC`) for a rule restic cannot express; the list limits and parse errors are the
 * tar.gz path's own.
 */
export function resticExcludes(root: string, ...lists: IgnoreList[]): string[] {
  if (!root.startsWith('/')) throw new Error('resticExcludes needs an absolute root');
  const rootParts = root.split('/').filter((p) => p !== '').map(escapeResticLiteral);
  const out: string[] = [];
  for (const list of lists) {
    for (const rule of parseIgnore(list.text, list.source)) {
      if (rule.negate) {
        throw new AppError(
          E_IGNORE_RESTIC,
          400,
          `the ${list.source} pattern ${JSON.stringify(rule.source.slice(0, 80))} re-includes files (!), which restic backups cannot do the way .gitignore rules do; remove it, or back this server up as tar.gz`,
          { meta: { source: list.source } },
        );
      }
      out.push(translate(rule, rootParts));
    }
  }
  return out;
}
