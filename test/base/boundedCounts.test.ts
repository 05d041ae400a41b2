import { describe, expect, it } from 'vitest';
import { BoundedCounts } from '../../src/base/boundedCounts.js';

describe('BoundedCounts', () => {
  it('counts exactly while there are no more distinct names than counters', () => {
    const counts = new BoundedCounts(3);
    for (const name of ['b', 'a', 'b', 'c', 'b', 'a']) counts.add(name);
    expect(counts.sorted()).toEqual([
      { name: 'b', count: 3 },
      { name: 'a', count: 2 },
      { name: 'c', count: 1 },
    ]);
    expect(counts.shortBy).toBe(0);
  });

  it('with many more distinct names than counters, keeps the frequent one, short by at most shortBy, in bounded memory', () => {
    const counts = new BoundedCounts(10);
    let session = 0;
    for (let index = 0; index < 100_000; index += 1) {
      if (index % 3 === 0) {
        counts.add('session:');
        session += 1;
      } else counts.add(`unique-${index}:`);
    }
    const sorted = counts.sorted();
    expect(sorted.length).toBeLessThanOrEqual(10);
    expect(sorted[0].name).toBe('session:');
    expect(counts.shortBy).toBeGreaterThan(0);
    expect(sorted[0].count).toBeLessThanOrEqual(session);
    expect(sorted[0].count).toBeGreaterThanOrEqual(session - counts.shortBy);
  });
});
