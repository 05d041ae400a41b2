import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { parseCommandLine, selectorOptions } from '../../src/cli/args.js';
import { RESTORE_SELECTORS } from '../../src/components/index.js';

describe('restore selector flags, parsed from the components declarations', () => {
  it('the declared flags are restore options: repeatable ones collect every value, in order', () => {
    expect(RESTORE_SELECTORS.map((selector) => selector.flag)).toEqual(expect.arrayContaining(['files', 'into']));
    const parsed = parseCommandLine(['restore', 'a.tar.gz', '--files', '.env', '--files=keys/*.pem', '--into', 'out']);
    expect(parsed.selectors).toEqual({ files: ['.env', 'keys/*.pem'], into: ['out'] });
    expect(parseCommandLine(['restore', 'a.tar.gz']).selectors).toEqual({});
  });

  it('refuses a non-repeatable flag given twice, an empty value, an unknown flag, and selectors on other commands (exit 2)', () => {
    for (const argv of [
      ['restore', 'a', '--into', 'x', '--into', 'y'],
      ['restore', 'a', '--files', ' '],
      ['restore', 'a', '--filez', 'x'],
      ['verify', 'a', '--files', 'x'],
      ['prune', 'a', '--into', 'x'],
    ]) {
      expect(() => parseCommandLine(argv)).toThrow(UsageError);
    }
  });

  it('a selector with the name of one of restore`s own options is a programming error', () => {
    expect(() => selectorOptions([{ flag: 'yes', value: 'X', repeatable: false, help: '' }])).toThrow(
      /has the name of one of restore's own options/,
    );
  });
});
