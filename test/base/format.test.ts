import { describe, expect, it } from 'vitest';
import { asSentence } from '../../src/base/format.js';

describe('a message ends in one period, even when it ends with another message', () => {
  it('asSentence adds a period only when there is none', () => {
    expect(asSentence('the archive is damaged')).toBe('the archive is damaged.');
    expect(asSentence('Check the password. Nothing was touched.')).toBe('Check the password. Nothing was touched.');
  });
});
