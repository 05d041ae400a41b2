import { describe, expect, it } from 'vitest';
import { normalizeEntryPath } from '../../src/archive/paths.js';
import { knownIncompressible, objectPath } from '../../src/s3/rustfs/objectPaths.js';

describe('object keys in the archive', () => {
  it.each(['a.txt', 'users/1/avatar.png', 'with space/ünïcødé ✓.txt', 'docs.v2/x'])('a plain key %s is its own path', (key) => {
    expect(objectPath(key)).toBe(key);
  });

  it.each(['folder/', '/leading', 'a//b', 'a/../b', '..', '.', 'a\\b', '~keys/abc', `${'x'.repeat(300)}/y`])(
    'a key %s that is not a safe path gets a hashed name that is one',
    (key) => {
      const path = objectPath(key);
      expect(path).toMatch(/^~keys\/[0-9a-f]{64}$/);
      expect(normalizeEntryPath(`rustfs/b/${path}`)).toEqual({ path: `rustfs/b/${path}` });
    },
  );

  it('distinct keys never share a path', () => {
    expect(objectPath('a//b')).not.toBe(objectPath('a///b'));
  });

  it('knows media and archives are compressed already', () => {
    expect(knownIncompressible('x.png', 'image/png')).toBe(true);
    expect(knownIncompressible('x.bin', 'application/gzip')).toBe(true);
    expect(knownIncompressible('x.zip', undefined)).toBe(true);
    expect(knownIncompressible('x.svg', 'image/svg+xml')).toBe(false);
    expect(knownIncompressible('report.csv', 'text/csv')).toBe(false);
    expect(knownIncompressible('blob', 'application/octet-stream')).toBe(false); // left to the writer's probe
  });
});
