import { describe, expect, it } from 'vitest';
import { compareKeys, mappedDifferences, mergedDifferences, UnorderedListing, type ComparableObject } from '../../src/s3/rustfs/diff.js';
import type { LiveObject } from '../../src/s3/client/store.js';

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function outcome(differ: typeof mergedDifferences, archived: ComparableObject[], live: LiveObject[]) {
  const changes: Record<string, string> = {};
  const targetOnly: string[] = [];
  for await (const item of differ(stream(archived), stream(live))) {
    if (item.kind === 'archived') changes[item.object.key] = item.change;
    else targetOnly.push(item.live.key);
  }
  return { changes, targetOnly };
}

const byKey = <T extends { key: string }>(items: T[]) => [...items].sort((a, b) => compareKeys(a.key, b.key));

describe('bucket comparison', () => {
  const archived = byKey([
    { key: 'same', size: 3, etags: ['aaa'] },
    { key: 'multipart', size: 30, etags: ['bbb', 'ccc-4'] },
    { key: 'changed', size: 3, etags: ['ddd'] },
    { key: 'resized', size: 3, etags: ['eee'] },
    { key: 'missing', size: 3, etags: ['fff'] },
  ]);
  const live = byKey([
    { key: 'same', size: 3, etag: 'aaa' },
    { key: 'multipart', size: 30, etag: 'ccc-4' },
    { key: 'changed', size: 3, etag: 'zzz' },
    { key: 'resized', size: 4, etag: 'eee' },
    { key: 'extra', size: 1, etag: 'x' },
    { key: 'zz-last', size: 1, etag: 'y' },
  ]);
  const expected = {
    changes: { same: 'unchanged', multipart: 'unchanged', changed: 'overwrite', resized: 'overwrite', missing: 'add' },
    targetOnly: ['extra', 'zz-last'],
  };

  it('one pass over both sorted listings classifies every object and lists those only in the target', async () => {
    expect(await outcome(mergedDifferences, archived, live)).toEqual(expected);
  });

  it('the in-memory comparison agrees, in any order', async () => {
    const shuffled = await outcome(mappedDifferences, [...archived].reverse(), [...live].reverse());
    expect(shuffled.changes).toEqual(expected.changes);
    expect(shuffled.targetOnly.sort()).toEqual(expected.targetOnly);
  });

  it('an empty bucket means every object is added', async () => {
    const { changes } = await outcome(mergedDifferences, archived, []);
    expect(Object.values(changes).every((change) => change === 'add')).toBe(true);
  });

  it('an object without a recorded checksum (legacy archive) is never assumed unchanged', async () => {
    const { changes } = await outcome(mergedDifferences, [{ key: 'k', size: 1, etags: [] }], [{ key: 'k', size: 1, etag: '' }]);
    expect(changes).toEqual({ k: 'overwrite' });
  });

  it('refuses to merge when either side is out of key order, instead of calling an existing object new', async () => {
    await expect(outcome(mergedDifferences, [...archived].reverse(), live)).rejects.toThrow(UnorderedListing);
    await expect(outcome(mergedDifferences, archived, [...live].reverse())).rejects.toThrow(UnorderedListing);
  });

  it('orders keys as S3 does, by UTF-8 bytes (U+FF5E sorts before an emoji, unlike in UTF-16)', () => {
    expect(compareKeys('\uff5e', '\u{1f600}')).toBeLessThan(0);
    expect('\uff5e' < '\u{1f600}').toBe(false);
  });
});
