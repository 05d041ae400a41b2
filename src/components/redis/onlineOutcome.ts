import { posix } from 'node:path';
import { AbortedError, type OrkestraError, RuntimeError } from '../../base/errors.js';
import { withoutFinalPeriod } from '../../base/format.js';
import type { RestoreContext } from '../../core/component.js';
import type { RedisAddress } from '../../redis/resp.js';

/**
 * How an online restore into Redis (whole or selective) ended when it did not finish: one source
 * for its messages, so each says the same way whether the server was changed, put back, or left
 * half restored, and where the kept copy is.
 */
export interface StoppedRestore {
  /** "the online restore into Redis at …", "the selective restore into Redis at …". */
  readonly restore: string;
  readonly interrupted: boolean;
  readonly error: unknown;
}

function how({ interrupted, error }: StoppedRestore): string {
  return interrupted ? 'was interrupted' : `stopped (${withoutFinalPeriod((error as Error).message)})`;
}

/** The interrupt landed after the kept copy was made, before the restore began. */
export function interruptedBeforeStart(address: RedisAddress): AbortedError {
  return new AbortedError(`interrupted before the restore into Redis at ${address.shown} began; nothing was changed.`);
}

/** Stopped before its first change: the server's data is as it was, and nothing is put back. */
export function unchangedError(stopped: StoppedRestore, hint: string): OrkestraError {
  if (stopped.interrupted)
    return new AbortedError(`${stopped.restore} was interrupted before its first change; nothing was changed.`, { hint });
  const why = withoutFinalPeriod((stopped.error as Error).message);
  return new RuntimeError(`${stopped.restore} stopped before its first change (${why}); nothing was changed.`, { hint });
}

/** The progress line as the put-back of `kept` ("the previous data") begins. */
export function puttingBackNote(stopped: StoppedRestore, kept: string): string {
  return `the restore ${stopped.interrupted ? 'was interrupted' : 'stopped'}; putting ${kept} back`;
}

/** `kept` ("the previous data") was put back; `holds` says what the server holds now. */
export function putBackError(stopped: StoppedRestore, kept: string, holds: string, hint: string): OrkestraError {
  const message = `${stopped.restore} ${how(stopped)}; ${kept} ${holds}.`;
  return stopped.interrupted ? new AbortedError(message, { hint }) : new RuntimeError(message, { hint });
}

/** Putting `kept` back failed too: `left` says what state the server is left in, the hint where the kept copy is. */
export function putBackFailedError(stopped: StoppedRestore, kept: string, again: unknown, left: string, hint: string): RuntimeError {
  return new RuntimeError(
    `${stopped.restore} ${how(stopped)}, and putting ${kept} back failed too (${withoutFinalPeriod((again as Error).message)}): ${left}.`,
    { hint },
  );
}

/** `host-port<suffix>`: a kept file's name for the server, safe as a file name. */
export function keptFileName(address: RedisAddress, suffix: string): string {
  return `${address.host.replace(/[^A-Za-z0-9.-]/g, '_')}-${address.port}${suffix}`;
}

/** `docker/.pre-restore-<stamp>/redis/<name>`: where a kept file is, as messages show it. */
export function keptShown(aside: RestoreContext['aside'], name: string): string {
  return `docker/${posix.basename(aside.displayPath)}/redis/${name}`;
}
