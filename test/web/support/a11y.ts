import type { Page } from 'playwright-core';

/** Controls without a name or label, as `tag#text` strings (empty when the page is clean). */
export async function unnamedControls(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a[href], input, textarea, select, [role="switch"], [role="progressbar"]'))) {
      const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
        || ((el as HTMLInputElement).labels?.length ?? 0) > 0 || (el.textContent ?? '').trim() !== '';
      if (!labelled) bad.push(`${el.tagName.toLowerCase()}#${el.outerHTML.slice(0, 80)}`);
    }
    for (const d of Array.from(document.querySelectorAll('dialog[open]'))) {
      const id = d.getAttribute('aria-labelledby');
      if (d.getAttribute('role') !== 'dialog' || !id || !document.getElementById(id)?.textContent?.trim()) bad.push('dialog without role/aria-labelledby');
    }
    return bad;
  });
}
