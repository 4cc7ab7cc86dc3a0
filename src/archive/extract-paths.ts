/** Lexically cleans an archive name into a root-relative path, or says why it is refused. */
export function cleanName(raw: string): { rel: string } | { reason: string } | null {
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
