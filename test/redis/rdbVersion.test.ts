import { describe, expect, it } from 'vitest';
import { highestRdbVersion } from '../../src/redis/rdb.js';

describe('the newest RDB version a Redis loads', () => {
  it('follows RDB_VERSION of each release', () => {
    expect(highestRdbVersion('6.2.14')).toBe(9);
    expect(highestRdbVersion('7.0.15')).toBe(10);
    expect(highestRdbVersion('7.2.4')).toBe(11);
    expect(highestRdbVersion('7.4.1')).toBe(12);
    expect(highestRdbVersion('8.0.2')).toBe(12);
    expect(highestRdbVersion('unknown')).toBeUndefined();
  });
});
