import { Worker } from 'node:worker_threads';

/**
 * Starts one of the archive engine's thread modules (`name` without extension, beside this file).
 * Compiled, it is plain JavaScript. From the TypeScript sources (tests, the bench) the thread first
 * registers the same loader the process runs under, since a worker does not inherit it.
 */
export function startModuleWorker(name: string, workerData: unknown): Worker {
  const opts = { workerData, execArgv: [], stdout: false, stderr: false };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), opts);
  const api = import.meta.resolve('tsx/esm/api');
  const file = new URL(`./${name}.ts`, import.meta.url).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`, { ...opts, eval: true });
}
