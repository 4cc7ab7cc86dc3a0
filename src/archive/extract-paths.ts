/** Lexically cleans an archive name into a root-relative path, or says why it is refused. */
export function cleanName(raw: string): { rel: string } | { reason: string } | null {
  if (isPlain(raw)) return { rel: raw.charCodeAt(raw.length - 1) === 0x2f ? raw.slice(0, -1) : raw };
  if (raw.startsWith('/')) return { reason: 'absolute path' };
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return { reason: 'path contains a .. component' };
    parts.push(p);
  }
  if (parts.length === 0) return null; // the root itself ("./")
  return { rel: parts.join('/') };
}

/** Whether a symlink at `rel` with this target stays inside the root, judged lexically. */
export function linkTargetInside(rel: string, target: string): boolean {
  if (target === '' || target.startsWith('/')) return false;
  const stack = rel.split('/');
  stack.pop();
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else stack.push(p);
  }
  return true;
}

export function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

/**
 * True for the names almost every archive holds: relative, no empty, '.' or '..' component except
 * one trailing '/'. Cleaning such a name only drops that slash, so the split below is skipped.
 */
function isPlain(raw: string): boolean {
  const n = raw.length;
  if (n === 0 || raw.charCodeAt(0) === 0x2f) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && raw.charCodeAt(i) !== 0x2f) continue;
    const len = i - start;
    if (len === 0) return i === n; // only the trailing slash may leave an empty component
    if (len <= 2 && raw.charCodeAt(start) === 0x2e && (len === 1 || raw.charCodeAt(start + 1) === 0x2e)) return false;
    start = i + 1;
  }
  return true;
}
