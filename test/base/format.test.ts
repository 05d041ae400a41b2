import { describe, expect, it } from 'vitest';
import { asSentence, printableName, shellWord } from '../../src/base/format.js';

describe('a message ends in one period, even when it ends with another message', () => {
  it('asSentence adds a period only when there is none', () => {
    expect(asSentence('the archive is damaged')).toBe('the archive is damaged.');
    expect(asSentence('Check the password. Nothing was touched.')).toBe('Check the password. Nothing was touched.');
  });
});

describe('shellWord', () => {
  it('leaves a plain value bare, quotes one a shell would split or expand, and shows control characters escaped', () => {
    expect(shellWord('orkestra.users')).toBe('orkestra.users');
    expect(shellWord('session:*')).toBe("'session:*'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('a\u001b[2J\nb')).toBe("'a\\u001b[2J\\nb'");
  });
});

describe('printableName', () => {
  it('escapes newlines and tabs besides what printable escapes: a name stays on its one row', () => {
    expect(printableName('a\nb\tc\u0007')).toBe('a\\nb\\tc\\u0007');
  });
});
