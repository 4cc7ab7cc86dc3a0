/**
 * Runs one of our operations in its own process so the parent can read a clean peak RSS.
 * argv: create <dir> <out> | extract <file> <dir>. Prints one JSON line.
 * With BW_WAIT_GO=1 it prints "ready" once loaded and starts on the first stdin line, so a paired
 * run can start it at the same instant as the tool it is compared with.
 */
import * as fs from 'node:fs';
import { createInterface } from 'node:readline';
import { createArchiveFile, extractArchive } from '../src/archive/index.ts';

const [op, a, b] = process.argv.slice(2);
if (process.env.BW_WAIT_GO === '1') {
  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => rl.once('line', () => resolve()));
  rl.close();
}
const started = performance.now();
const cpu0 = process.cpuUsage();
let extra: Record<string, unknown> = {};
if (op === 'create') {
  const r = await createArchiveFile(a!, b!);
  extra = { size: r.size, files: r.files, bytesRead: r.bytesRead };
} else if (op === 'extract') {
  fs.mkdirSync(b!, { recursive: true });
  const r = await extractArchive(fs.createReadStream(a!, { highWaterMark: 1 << 20 }), b!);
  extra = { entries: r.entries, bytesWritten: r.bytesWritten };
} else {
  throw new Error(`unknown op ${op}`);
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ ms, cpuMs, maxRssKiB: process.resourceUsage().maxRSS, ...extra })}\n`);
