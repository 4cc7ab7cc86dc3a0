import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export function tempDir(prefix = 'bw-daemon-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const p = join(root, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** Relative path → content of every regular file under root (sorted). */
export function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out[relative(root, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(root);
  return out;
}

export const uuid = (): string => randomUUID();
export const random = (n: number): Buffer => randomBytes(n);

export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function api(base: string, token: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

/** A list that tests can wait on: `waitFor` resolves with the first item matching, now or later. */
export class WaitableList<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.#waiters]) w();
  }

  waitFor(pred: (item: T) => boolean, timeoutMs = 20_000, what = 'report'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.items.find(pred);
        if (!hit) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.items)}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** An archive as Wings' users have them, made by GNU tar (`tar -czf … -C tree .`), no sidecar; returns the tree. */
export function gnuTarArchive(archive: string, tree: Record<string, string | Buffer>, scratch: string): string {
  writeTree(scratch, tree);
  mkdirSync(dirname(archive), { recursive: true });
  execFileSync('tar', ['-czf', archive, '-C', scratch, '.']);
  return scratch;
}
