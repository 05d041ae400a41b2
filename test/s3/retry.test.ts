import { describe, expect, it } from 'vitest';
import { withRetries } from '../../src/s3/client/retry.js';
import { StoreServerError } from '../../src/s3/client/errors.js';

describe('retries of store operations', () => {
  it('an interrupt during a pause between attempts ends the wait at once with the interrupt', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const started = Date.now();
    const retried = withRetries(
      async () => {
        attempts += 1;
        throw new StoreServerError('the store answered 503.');
      },
      { signal: controller.signal, onRetry: () => controller.abort(new Error('interrupted by SIGINT')), backoffMs: [60_000] },
    );
    await expect(retried).rejects.toThrow('interrupted by SIGINT');
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a transient failure is tried again after its pause and can then succeed', async () => {
    let attempts = 0;
    const notes: string[] = [];
    const result = await withRetries(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new StoreServerError('the store answered 503.');
        return 'ok';
      },
      { signal: new AbortController().signal, onRetry: (note) => notes.push(note), backoffMs: [10, 10] },
    );
    expect(result).toBe('ok');
    expect(notes).toEqual(['the store answered 503; trying again in 0.01 s', 'the store answered 503; trying again in 0.01 s']);
  });
});
