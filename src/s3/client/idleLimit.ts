import type { Readable } from 'node:stream';

/** The body stopped sending: no chunk arrived for the idle limit. */
export class StalledBodyError extends Error {
  constructor(readonly idleMs: number) {
    super(`no data arrived for ${idleMs / 1000} s`);
    this.name = 'StalledBodyError';
  }
}

/**
 * A response body's chunks, failing with StalledBodyError when the next one takes longer than
 * `idleMs` to arrive: a server that sends part of an object and then nothing, while keeping the
 * connection open, would otherwise be waited on forever (the SDK's request timeout ends with the
 * response headers). The clock runs only while waiting for the body, never while the consumer
 * holds a chunk, so a slow consumer is not mistaken for a stalled server. One timer serves the
 * whole body (re-armed per chunk, never re-created): this sits on the path of every byte read.
 * The body is destroyed when the chunks end, fail or are abandoned, or when `signal` aborts.
 */
export async function* withinIdleLimit(body: Readable, idleMs: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  let waiting = true;
  const timer = setTimeout(() => {
    if (waiting) body.destroy(new StalledBodyError(idleMs));
  }, idleMs);
  // A watchdog never holds the process open: while a chunk is awaited, the body's socket does.
  timer.unref();
  // Destroying the body ends a wait for its next chunk, so an abort is never waited on.
  const stop = () => body.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      waiting = false;
      yield chunk;
      waiting = true;
      timer.refresh();
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
    body.destroy();
  }
}
