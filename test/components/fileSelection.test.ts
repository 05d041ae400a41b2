import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.js';
import { FileTally } from '../../src/components/fileSelection.js';

describe('FileTally: which paths --files takes', () => {
  it('a path, a folder (all it holds), a glob (dot files too); nothing else', () => {
    const tally = new FileTally(['.env', 'keys', './certs/*.pem', '**/.hidden'], 'secrets');
    const taken = ['.env', 'keys/a', 'keys/sub/b', 'certs/x.pem', 'deep/down/.hidden'];
    const left = ['.env.old', 'keysafe/a', 'certs/x.key', 'certs/sub/x.pem', 'env'];
    expect(taken.filter((path) => tally.selects(path))).toEqual(taken);
    expect(left.filter((path) => tally.selects(path))).toEqual([]);
  });

  it('without patterns every path; counts per pattern and in the totals once', () => {
    expect(new FileTally([], 'x').selects('any/path')).toBe(true);
    const tally = new FileTally(['keys', 'keys/*.pem'], 'secrets');
    tally.count('keys/a.pem', 'overwrite');
    tally.count('keys/b', 'add');
    expect(tally.lines()).toEqual([
      '--files keys: 2 files in the archive: 1 to add, 1 to overwrite (different), 0 identical',
      '--files keys/*.pem: 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical',
    ]);
    expect(tally.impact('/tmp/x')).toEqual({
      totals: '2 files in the archive: 1 to add, 1 to overwrite (different), 0 identical',
      beside: '/tmp/x',
    });
  });

  it('a pattern that matched nothing is a usage error naming it', () => {
    const tally = new FileTally(['.env', 'nope/*'], 'secrets');
    tally.count('.env', 'identical');
    expect(() => tally.refuseUnmatched('a.tar.gz')).toThrow(UsageError);
    expect(() => tally.refuseUnmatched('a.tar.gz')).toThrow('--files nope/* matches no file of secrets in a.tar.gz.');
  });
});
