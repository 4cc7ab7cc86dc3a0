/**
 * The question a destructive command asks before it acts. Only on a terminal (stdin and stderr
 * both TTYs): scripts and pipes run as they always did, and `--yes` skips the question anywhere.
 * The question goes to stderr so stdout stays clean for --json.
 */
import { createInterface } from 'node:readline/promises';
import { CliError } from '../../core/cli-error.ts';
import { EXIT } from './exit-codes.ts';

export interface ConfirmOptions {
  yes?: boolean;
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  output?: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function confirmOrStop(question: string, opts: ConfirmOptions = {}): Promise<void> {
  if (opts.yes) return;
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (input.isTTY !== true || output.isTTY !== true) return;
  const rl = createInterface({ input, output });
  let answer: string;
  try {
    answer = await rl.question(`${question} [y/N] `);
  } finally {
    rl.close();
  }
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CliError('not confirmed; nothing was changed (pass --yes to skip this question)', EXIT.error);
}
