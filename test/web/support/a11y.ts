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

/**
 * Visible texts whose contrast with what is behind them is below `min` (WCAG 2 formula), as
 * `"text" ratio (color on background)` strings. The background is found by compositing the
 * ancestors' background colours; opacity on the way is applied to the text colour.
 */
export async function lowContrastTexts(p: Page, min = 4.5): Promise<string[]> {
  // tsx compiles the function below with esbuild's keepNames, whose __name helper the page lacks.
  await p.evaluate('window.__name = window.__name || ((f) => f)');
  return p.evaluate((minRatio) => {
    type RGBA = [number, number, number, number];
    const parse = (c: string): RGBA => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const parts = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return [parts[0]!, parts[1]!, parts[2]!, parts.length > 3 ? parts[3]! : 1];
    };
    const over = (top: RGBA, below: RGBA): RGBA => {
      const a = top[3] + below[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const mix = (i: number) => (top[i]! * top[3] + below[i]! * below[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const lum = (c: RGBA) => {
      const ch = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
    };
    const backgroundOf = (el: Element): RGBA => {
      const layers: RGBA[] = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3] > 0) layers.push(bg);
        if (bg[3] >= 1) break;
      }
      let acc: RGBA = [255, 255, 255, 1];
      for (const layer of layers.reverse()) acc = over(layer, acc);
      return acc;
    };
    const opacityOf = (el: Element): number => {
      let o = 1;
      for (let e: Element | null = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
      return o;
    };
    const bad: string[] = [];
    const seen = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = (n.textContent ?? '').trim();
      const el = n.parentElement;
      if (!text || !el || seen.has(el)) continue;
      seen.add(el);
      const rect = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || el.closest('[aria-hidden="true"], .sr-only')) continue;
      if (el.closest('textarea, input, option')) continue;
      const bg = backgroundOf(el);
      const fg0 = parse(style.color);
      const fg = over([fg0[0], fg0[1], fg0[2], fg0[3] * opacityOf(el)], bg);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      if (ratio < minRatio) bad.push(`"${text.slice(0, 40)}" ${ratio.toFixed(2)}:1 (${style.color} on rgb(${bg.slice(0, 3).map(Math.round).join(',')}))`);
    }
    return bad;
  }, min);
}
