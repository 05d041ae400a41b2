import { withoutFinalPeriod } from '../../base/format.js';
import { AbortedError } from '../../base/errors.js';
import { isTransient } from './errors.js';

/** Pauses between whole-operation attempts, on top of the SDK's own quick retries. */
const BACKOFF_MS = [1_000, 3_000, 9_000, 20_000];

/**
 * Runs an operation again after a growing pause when the store was unreachable or failed on
 * its side — long enough to ride out a container restart — and gives up after the last pause.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  options: { signal: AbortSignal; onRetry(message: string): void; backoffMs?: readonly number[] },
): Promise<T> {
  const pauses = options.backoffMs ?? BACKOFF_MS;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= pauses.length || options.signal.aborted) throw error;
      const pause = pauses[attempt];
      options.onRetry(`${withoutFinalPeriod((error as Error).message)}; trying again in ${pause / 1000} s`);
      await abortableDelay(pause, options.signal);
    }
  }
}

/** A pause that ends early, with the abort's reason, when the operator interrupts. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(reasonOf(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(reasonOf(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new AbortedError('interrupted.');
}
