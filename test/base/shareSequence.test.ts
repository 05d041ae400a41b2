import { describe, expect, it } from 'vitest';
import { shareSequence } from '../../src/base/asyncSequences.js';

/** A source that counts how far it was pulled and whether it was let go. */
function countingSource(items: number, failAt?: number) {
  const state = { pulled: 0, returned: false };
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        if (failAt !== undefined && state.pulled === failAt) throw new Error(`source failed at ${failAt}`);
        if (state.pulled >= items) return { done: true, value: undefined };
        state.pulled += 1;
        return { done: false, value: state.pulled };
      },
      async return() {
        state.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { source, state };
}

async function collect(items: AsyncIterable<number>, onItem: (item: number) => Promise<void> | void = () => undefined): Promise<number[]> {
  const seen: number[] = [];
  for await (const item of items) {
    seen.push(item);
    await onItem(item);
  }
  return seen;
}

describe('shareSequence: one read of a sequence for several consumers', () => {
  it('gives every consumer every item from a single pull of each, never more than one item ahead of the slowest', async () => {
    const { source, state } = countingSource(50);
    const [fast, slow] = shareSequence(source, 2);
    let ahead = 0;
    const slowSeen: number[] = [];
    const [a, b] = await Promise.all([
      collect(fast, () => {
        ahead = Math.max(ahead, state.pulled - slowSeen.length);
      }),
      collect(slow, async (item) => {
        slowSeen.push(item);
        await new Promise((resolve) => setImmediate(resolve));
      }),
    ]);
    const all = Array.from({ length: 50 }, (_, index) => index + 1);
    expect(a).toEqual(all);
    expect(b).toEqual(all);
    expect(state.pulled).toBe(50);
    expect(ahead).toBeLessThanOrEqual(1);
  });

  it('a consumer that stops early no longer holds the other back, and the source is let go when both have stopped', async () => {
    const { source, state } = countingSource(1000);
    const [early, late] = shareSequence(source, 2);
    const stopper = (async () => {
      for await (const item of early) if (item === 3) break;
    })();
    const taken: number[] = [];
    for await (const item of late) {
      taken.push(item);
      if (item === 10) break;
    }
    await stopper;
    expect(taken).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(state.returned).toBe(true);
  });

  it('a consumer let go before it reads anything does not stop the other', async () => {
    const { source } = countingSource(5);
    const [unused, used] = shareSequence(source, 2);
    await unused[Symbol.asyncIterator]().return?.();
    expect(await collect(used)).toEqual([1, 2, 3, 4, 5]);
  });

  it("the source's failure reaches every consumer", async () => {
    const { source } = countingSource(10, 4);
    const [one, two] = shareSequence(source, 2);
    const results = await Promise.allSettled([collect(one), collect(two)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('source failed at 4'));
  });
});
