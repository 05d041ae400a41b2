import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { describe, expect, it } from 'vitest';
import { matchesGlob } from '../../src/base/globMatch.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const FOLDERS = [
  'docker/data',
  'docker/data/a',
  'docker/data/a/b',
  'docker/.hidden',
  'docker/spool-1',
  'docker/spool-x',
  'docker/spool-10',
  'docker/other',
  'srv/x/data',
];

const PATTERNS = [
  'docker/data/**',
  'docker/**/b',
  'docker/*',
  'docker/spool-*',
  'docker/spool-?',
  'docker/spool-[0-9]',
  'docker/spool-[!0-9]',
  'docker/{data,other}',
  'docker/{data/a,spool-1}',
  '**/data',
  'docker/data',
  'docker/data/',
  './docker/other',
];

describe('matchesGlob', () => {
  it.each(PATTERNS)('agrees with the folders tinyglobby finds for %s (the glob a backup expands)', async (pattern) => {
    const root = await temporaryFolder('orkestra-glob-');
    for (const folder of FOLDERS) await mkdir(join(root, folder), { recursive: true });
    const found = await glob(pattern, {
      cwd: root,
      onlyDirectories: true,
      dot: true,
      expandDirectories: false,
      followSymbolicLinks: false,
    });
    const expected = found.map((path) => path.replace(/\/+$/, '')).sort();
    expect(FOLDERS.filter((folder) => matchesGlob(folder, pattern)).sort()).toEqual(expected);
  });

  it('matches absolute folders against absolute globs only', () => {
    expect(matchesGlob('/srv/spool-a', '/srv/spool-*')).toBe(true);
    expect(matchesGlob('/tmp/victim', 'docker/spool-*')).toBe(false);
    expect(matchesGlob('srv/spool-a', '/srv/spool-*')).toBe(false);
  });
});
