import { describe, expect, it } from 'vitest';
import { diffBucket } from '../../src/s3/diff.js';

describe('bucket diff', () => {
  const archived = [
    { key: 'same', size: 3, etags: ['aaa'] },
    { key: 'multipart', size: 30, etags: ['bbb', 'ccc-4'] },
    { key: 'changed', size: 3, etags: ['ddd'] },
    { key: 'resized', size: 3, etags: ['eee'] },
    { key: 'missing', size: 3, etags: ['fff'] },
  ];

  it('classifies every object and lists those only in the target', () => {
    const live = [
      { key: 'same', size: 3, etag: 'aaa' },
      { key: 'multipart', size: 30, etag: 'ccc-4' },
      { key: 'changed', size: 3, etag: 'zzz' },
      { key: 'resized', size: 4, etag: 'eee' },
      { key: 'extra', size: 1, etag: 'x' },
    ];
    const diff = diffBucket(archived, live);
    expect(Object.fromEntries(diff.changes)).toEqual({
      same: 'unchanged',
      multipart: 'unchanged',
      changed: 'overwrite',
      resized: 'overwrite',
      missing: 'add',
    });
    expect(diff.targetOnly.map((object) => object.key)).toEqual(['extra']);
  });

  it('a missing bucket means every object is added', () => {
    expect([...diffBucket(archived, undefined).changes.values()].every((change) => change === 'add')).toBe(true);
  });

  it('an object without a recorded checksum (legacy archive) is never assumed unchanged', () => {
    expect(diffBucket([{ key: 'k', size: 1, etags: [] }], [{ key: 'k', size: 1, etag: '' }]).changes.get('k')).toBe('overwrite');
  });
});
