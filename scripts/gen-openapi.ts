/**
 * Writes openapi/panel.json and openapi/daemon.json from the route schemas (the same schemas
 * that validate requests), so the checked-in documents cannot drift from the code.
 *   node --import tsx scripts/gen-openapi.ts           regenerate
 *   node --import tsx scripts/gen-openapi.ts --check   exit 1 if a checked-in file is stale
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi');

type Builder = () => Promise<object>;

async function panelBuilder(): Promise<Builder> {
  // The panel's builder sits next to its docs plugin; main.ts re-exports it in some layouts.
  for (const mod of ['../src/panel/http/docs.plugin.ts', '../src/panel/openapi.ts', '../src/panel/main.ts']) {
    try {
      const m = (await import(mod)) as { buildPanelOpenApi?: Builder };
      if (typeof m.buildPanelOpenApi === 'function') return m.buildPanelOpenApi;
    } catch (err) {
      // Only "this candidate file does not exist" moves on; a broken import inside it is an error.
      const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(mod.replace('../', '/'));
      if (!missing) throw err;
    }
  }
  throw new Error('buildPanelOpenApi() not found in the panel sources');
}

/** Stable text: same document, same bytes. */
export function render(doc: object): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function generateOpenApi(): Promise<Record<string, string>> {
  const { buildDaemonOpenApi } = await import('../src/daemon/main.ts');
  const buildPanel = await panelBuilder();
  return {
    'panel.json': render(await buildPanel()),
    'daemon.json': render(await buildDaemonOpenApi()),
  };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const docs = await generateOpenApi();
  let stale = 0;
  for (const [name, text] of Object.entries(docs)) {
    const path = join(OPENAPI_DIR, name);
    if (check) {
      const current = await readFile(path, 'utf8').catch(() => '');
      if (current !== text) {
        stale++;
        process.stderr.write(`openapi/${name} is out of date; run: node --import tsx scripts/gen-openapi.ts\n`);
      }
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      process.stdout.write(`wrote openapi/${name}\n`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
