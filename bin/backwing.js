#!/usr/bin/env node
// Launcher. An installed package (and a checkout after `npm ci`, whose `prepare` builds it) runs the
// compiled JavaScript in dist/: no TypeScript loader at run time. In a source checkout the
// TypeScript sources run through tsx instead when BACKWING_FROM_SOURCE=1 (a developer trying a change
// without rebuilding; the test runner rebuilds dist/ instead) or when nothing is built yet. tsx is a dev dependency: that path exists only in a checkout.
import { existsSync } from 'node:fs';

const built = existsSync(new URL('../dist/cli/main.js', import.meta.url));
const sources = existsSync(new URL('../src/cli/main.ts', import.meta.url));
if (sources && (!built || process.env.BACKWING_FROM_SOURCE === '1')) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
