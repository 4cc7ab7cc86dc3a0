/**
 * Save hooks: what a backup asks the game before and after it reads the files, per preset.
 * The before-step makes the files on disk consistent (flush, then hold writes); the after-step
 * gives the game its saving back and runs whatever happened to the backup.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../core/logger.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { SaveHook } from '../../wire/server-control.ts';
import type { ServerControl } from './server-control.ts';
import { ControlError, type ServerRef } from './types.ts';

export interface HookStep {
  command: string;
  /** Wait until the answer matches. */
  expect?: RegExp;
  /** Send again every second until the answer matches (Bedrock's `save query`). */
  poll?: boolean;
}

export interface HookPlan {
  preset: SaveHook['preset'];
  before: HookStep[];
  /** Plain commands: journaled as they are, so a restarted daemon can send them. */
  after: string[];
}

const SAVED_JAVA = /Saved the game/;
const SAVED_BEDROCK = /Data saved\. Files are now ready to be copied\./;
const POLL_EVERY_MS = 1000;
/** One `save query` may go unanswered (previous save still running): each try waits this long. */
const POLL_TRY_MS = 3000;
/** The after-step runs also on shutdown, with its own clock; each command gets this long. */
const AFTER_COMMAND_TIMEOUT_MS = 15_000;

export function planFor(hook: SaveHook, sourceCommand: string): HookPlan {
  switch (hook.preset) {
    case 'minecraft-java':
      return { preset: hook.preset, before: [{ command: 'save-off' }, { command: 'save-all flush', expect: SAVED_JAVA }], after: ['save-on'] };
    case 'minecraft-bedrock':
      return { preset: hook.preset, before: [{ command: 'save hold' }, { command: 'save query', expect: SAVED_BEDROCK, poll: true }], after: ['save resume'] };
    case 'source':
      return { preset: hook.preset, before: [{ command: sourceCommand }], after: [] };
    case 'custom':
      return { preset: hook.preset, before: (hook.before ?? []).map((command) => ({ command })), after: [...(hook.after ?? [])] };
    default:
      return { preset: 'none', before: [], after: [] };
  }
}

export class SaveHookRunner {
  constructor(private readonly control: ServerControl, private readonly timeoutMs: number, private readonly logger: Logger) {}

  /**
   * Runs the before-step. Returns false when it was skipped because the game is not running (its
   * files are at rest: nothing to flush, and nothing owed afterwards). Throws ControlError when the
   * game cannot be reached or does not confirm in time.
   */
  async before(server: ServerRef, plan: HookPlan, signal: AbortSignal): Promise<boolean> {
    if (plan.before.length === 0) return false;
    const state = await this.control.state(server, signal);
    if (state === 'offline') {
      this.logger.info({ preset: plan.preset }, 'save hook skipped: the server is offline');
      return false;
    }
    const deadline = Date.now() + this.timeoutMs;
    for (const step of plan.before) {
      const left = () => Math.max(1, deadline - Date.now());
      try {
        if (!step.poll) {
          await this.control.command(server, step.command, { timeoutMs: left(), expect: step.expect, signal });
          continue;
        }
        for (;;) {
          try {
            await this.control.command(server, step.command, { timeoutMs: Math.min(POLL_TRY_MS, left()), expect: step.expect, signal });
            break;
          } catch (err) {
            if (!(err instanceof ControlError) || err.offline) throw err;
            // Each try has its own short clock; what failed is the whole wait.
            if (Date.now() >= deadline) throw new ControlError(`the game did not confirm "${step.command}" within ${Math.round(this.timeoutMs / 1000)} s`);
            await sleep(POLL_EVERY_MS, undefined, { signal });
          }
        }
      } catch (err) {
        if (err instanceof ControlError && err.offline && step === plan.before[0]) {
          // No state available (rcon only) and nothing listens: the game is not running.
          this.logger.info({ preset: plan.preset, reason: err.message }, 'save hook skipped: the game is not reachable');
          return false;
        }
        throw err instanceof ControlError ? new ControlError(`save hook ${plan.preset}: ${err.message}`) : err;
      }
    }
    this.logger.info({ preset: plan.preset }, 'save hook before-step done');
    return true;
  }

  /** Sends every after command, each on its own clock; never throws (what failed is logged). */
  async after(server: ServerRef, commands: readonly string[]): Promise<boolean> {
    let ok = true;
    for (const command of commands) {
      try {
        await this.control.command(server, command, { timeoutMs: AFTER_COMMAND_TIMEOUT_MS });
      } catch (err) {
        ok = false;
        this.logger.warn({ command, err: errorMessage(err) }, 'save hook after-step command failed');
      }
    }
    if (commands.length > 0) this.logger.info({ ok }, 'save hook after-step done');
    return ok;
  }
}
