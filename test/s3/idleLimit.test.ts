import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StalledBodyError, withinIdleLimit } from '../../src/s3/client/idleLimit.js';

/** Resolves after a real pause: here the pause is what is tested (a consumer slower than the idle limit). */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a body read within an idle limit', () => {
  it('a body that stops sending fails with the idle time, and is destroyed', async () => {
    const body = new PassThrough();
    body.write(Buffer.from('first'));
    const read: string[] = [];
    const reading = (async () => {
      for await (const chunk of withinIdleLimit(body, 100, new AbortController().signal)) read.push(chunk.toString());
    })();
    await expect(reading).rejects.toBeInstanceOf(StalledBodyError);
    await expect(reading).rejects.toThrow('no data arrived for 0.1 s');
    expect(read).toEqual(['first']);
    expect(body.destroyed).toBe(true);
  });

  it('a consumer slower than the limit is not mistaken for a stalled body: the clock runs only while waiting for data', async () => {
    const body = new PassThrough();
    const read: string[] = [];
    const reading = (async () => {
      for await (const chunk of withinIdleLimit(body, 100, new AbortController().signal)) {
        read.push(chunk.toString());
        await pause(250);
      }
    })();
    body.write(Buffer.from('a'));
    body.write(Buffer.from('b'));
    body.end();
    await reading;
    expect(read.join('')).toBe('ab');
  });

  it('an abort ends a wait on a silent body at once', async () => {
    const body = new PassThrough();
    const controller = new AbortController();
    const reading = (async () => {
      for await (const chunk of withinIdleLimit(body, 60_000, controller.signal)) void chunk;
    })();
    const started = Date.now();
    controller.abort();
    await reading.catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.destroyed).toBe(true);
  });
});
