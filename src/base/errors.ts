import { printable, firstLine } from './format.js';

/** Exit codes: 0 success, 1 the operation failed, 2 bad input (usage or archive). */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * Typed failures. Every error the tool raises on purpose is one of these; each carries a
 * message written for the operator and maps to an exit code in exactly one place
 * (`exitCodeFor`). Anything else that escapes is an unexpected failure (exit 1).
 */
export abstract class OrkestraError extends Error {
  abstract readonly exitCode: number;
  /** What the operator should do next, printed after the message when present. */
  readonly hint?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flags, unknown component names, unreadable or tampered archives: exit 2, nothing touched. */
export class UsageError extends OrkestraError {
  readonly exitCode = EXIT_USAGE;
}

/** The host is not in a state the operation needs (container stopped, engine unreachable): exit 1. */
export class PreconditionError extends OrkestraError {
  readonly exitCode = EXIT_FAILED;
}

/** Something failed while doing the work (a dump exited non-zero, a write failed): exit 1. */
export class RuntimeError extends OrkestraError {
  readonly exitCode = EXIT_FAILED;
}

/**
 * A run that ended and says in what state it left things (a restore's outcome: what was restored,
 * what was put back, where the kept copy is). An interrupt does not replace its message.
 */
export class OutcomeError extends RuntimeError {}

/** The operator said no at a prompt or interrupted the tool. */
export class AbortedError extends OrkestraError {
  readonly exitCode = EXIT_FAILED;
  /** The signal the operator sent, when one interrupted the run. */
  readonly signal?: NodeJS.Signals;

  constructor(message: string, options: { hint?: string; cause?: unknown; signal?: NodeJS.Signals } = {}) {
    super(message, options);
    this.signal = options.signal;
  }
}

export function exitCodeFor(error: unknown): number {
  return error instanceof OrkestraError ? error.exitCode : EXIT_FAILED;
}

/** One line for the operator: the message, then the hint. Never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof OrkestraError) {
    return printable(error.hint ? `${error.message} ${error.hint}` : error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return printable(`unexpected failure: ${firstLine(message)}`);
}
