#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's built-in runner in one invocation, so the
// closing summary covers the whole suite. Node 20 does not expand globs in --test arguments, so
// the files are listed here. Extra arguments are substrings that filter the file list.
// The suite tests the current TypeScript sources: test files run through tsx, and dist/ is rebuilt
// from src/ first (`npm run build:server`, ~8 s), so the CLI, panels and daemons the tests spawn run
// the same code compiled. Spawning them through tsx instead (BACKWING_FROM_SOURCE=1) costs every
// process its own TypeScript load: test/cli took 253 s of CPU that way against 134 s compiled.
// A type error fails the build and so the run, before any test starts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const roots = ['src', 'test'];
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, [])).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const build = spawnSync('npm', ['run', '--silent', 'build:server'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('the server build (npm run build:server) failed: no test was run');
  process.exit(1);
}
// `npm ci` builds the native archive addon (its `install` script); a checkout that only pulled it
// since gets it here once (~2 s), so its tests do not fail for want of a build.
if (!existsSync(new URL('../native/build/Release/backwing_fs.node', import.meta.url))) {
  spawnSync('npm', ['run', '--silent', 'build:native'], { stdio: 'inherit' });
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...passThrough, ...files], {
  stdio: 'inherit',
  env: { ...process.env, BACKWING_FROM_SOURCE: '0', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
