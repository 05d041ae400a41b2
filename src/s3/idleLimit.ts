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
 * holds a chunk, so a slow consumer is not mistaken for a stalled server. The body is destroyed
 * when the chunks end, fail or are abandoned, or when `signal` aborts.
 */
export async function* withinIdleLimit(body: Readable, idleMs: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  // Destroying the body ends a wait for its next chunk (with an error), so an abort is never waited on.
  const stop = () => body.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new StalledBodyError(idleMs)), idleMs);
      });
      let next: IteratorResult<Buffer>;
      try {
        next = await Promise.race([chunks.next(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    body.destroy();
  }
}
