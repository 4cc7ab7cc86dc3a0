import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LogFn, Logger } from 'pino';

/**
 * Fastify gives every request a child logger bound to its request id. pino builds a child's
 * bindings (serialize, redact) when it is made: ~3 % of the backup list's CPU under load
 * (docs/benchmarks.md, the load section), though at the panel's usual level nothing a request logs
 * is written. This stands in for that child and makes the real one only when a message at an
 * enabled level is logged, so what is written is exactly what the child would have written.
 */
class LazyRequestLogger {
  #real: Logger | undefined;

  constructor(private readonly parent: Logger, private readonly bound: Bindings, private readonly options: ChildLoggerOptions) {}

  get real(): Logger {
    return (this.#real ??= this.parent.child(this.bound, this.options));
  }

  get level(): string {
    return (this.#real ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#real ?? this.parent).isLevelEnabled(level);
  }

  bindings(): Bindings {
    return this.real.bindings();
  }

  setBindings(bindings: Bindings): void {
    this.real.setBindings(bindings);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  silent(): void {}
}

const LEVELS: Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
for (const level of LEVELS) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value(this: LazyRequestLogger, ...args: Parameters<LogFn>) {
      if (this.isLevelEnabled(level)) (this.real[level] as LogFn)(...args);
    },
  });
}

/** Fastify's `childLoggerFactory`. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger;
}
