import type { LiveObject } from '../client/store.js';

export interface ComparableObject {
  key: string;
  size: number;
  /** ETags this content may carry in a store: its MD5, the multipart ETag of our part size, the source's ETag. */
  etags: readonly string[];
}

export type ObjectChange = 'add' | 'overwrite' | 'unchanged';

export type BucketDifference<T> =
  | { kind: 'archived'; object: T; change: ObjectChange; live?: LiveObject }
  /** In the live bucket but not in the backup: listed, never touched. */
  | { kind: 'target-only'; live: LiveObject };

/** A listing found out of S3's key order: the caller compares that bucket through a map instead. */
export class UnorderedListing extends Error {
  constructor(readonly side: 'archive' | 'store') {
    super(`the ${side === 'archive' ? "archive's objects are" : "store's listing is"} not in key order`);
  }
}

/**
 * Compares the backup's objects of one bucket with the live ones in a single pass over both,
 * which S3 lists in UTF-8 byte order of their keys (the backup recorded them in its source's
 * listing order): memory stays flat at a million objects. Throws UnorderedListing when either
 * side is not in that order, before acting on anything that order would make wrong.
 */
export async function* mergedDifferences<T extends ComparableObject>(
  archived: AsyncIterable<T>,
  live: AsyncIterable<LiveObject>,
): AsyncGenerator<BucketDifference<T>> {
  const listing = live[Symbol.asyncIterator]();
  let current = await listing.next();
  let previousLive: string | undefined;
  let previousArchived: string | undefined;
  const advance = async () => {
    previousLive = current.done ? previousLive : current.value.key;
    current = await listing.next();
    if (!current.done && previousLive !== undefined && compareKeys(current.value.key, previousLive) <= 0)
      throw new UnorderedListing('store');
  };
  try {
    for await (const object of archived) {
      if (previousArchived !== undefined && compareKeys(object.key, previousArchived) <= 0) throw new UnorderedListing('archive');
      previousArchived = object.key;
      while (!current.done && compareKeys(current.value.key, object.key) < 0) {
        yield { kind: 'target-only', live: current.value };
        await advance();
      }
      if (!current.done && current.value.key === object.key) {
        const liveObject = current.value;
        yield { kind: 'archived', object, change: sameContent(object, liveObject) ? 'unchanged' : 'overwrite', live: liveObject };
        await advance();
      } else {
        yield { kind: 'archived', object, change: 'add' };
      }
    }
    while (!current.done) {
      yield { kind: 'target-only', live: current.value };
      await advance();
    }
  } finally {
    await listing.return?.();
  }
}

/** The same comparison in any order, holding the live listing in memory: for stores that list out of order. */
export async function* mappedDifferences<T extends ComparableObject>(
  archived: AsyncIterable<T>,
  live: AsyncIterable<LiveObject>,
): AsyncGenerator<BucketDifference<T>> {
  const liveByKey = new Map<string, LiveObject>();
  for await (const object of live) liveByKey.set(object.key, object);
  for await (const object of archived) {
    const current = liveByKey.get(object.key);
    liveByKey.delete(object.key);
    if (!current) yield { kind: 'archived', object, change: 'add' };
    else yield { kind: 'archived', object, change: sameContent(object, current) ? 'unchanged' : 'overwrite', live: current };
  }
  for (const object of liveByKey.values()) yield { kind: 'target-only', live: object };
}

/** S3's listing order: UTF-8 bytes, which differs from JavaScript's UTF-16 order past U+FFFF. */
export function compareKeys(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}

function sameContent(archived: ComparableObject, live: LiveObject): boolean {
  return archived.size === live.size && live.etag !== '' && archived.etags.includes(live.etag);
}
