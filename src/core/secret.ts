import { inspect } from 'node:util';

/** A string that prints as **redacted** in logs, JSON and inspect output. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '**redacted**';
  }
  toJSON(): string {
    return '**redacted**';
  }
  [inspect.custom](): string {
    return '**redacted**';
  }
}
