#!/usr/bin/env node
// Launcher. An installed package (and a checkout after `npm ci`, whose `prepare` builds it) runs the
// compiled JavaScript in dist/: no TypeScript loader at run time. The TypeScript sources run through
// tsx instead when BACKWING_FROM_SOURCE=1 (set by `npm test`'s runner, so every process the suite
// spawns runs the current sources, never a stale build) or when there is no dist/ at all (a fresh
// clone before any build; tsx is a dev dependency, so this is a developer-only path).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (process.env.BACKWING_FROM_SOURCE !== '1' && existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
