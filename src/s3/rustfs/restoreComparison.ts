/**
 * A restore's comparison of the backup's objects with a live store, streamed bucket by bucket
 * in archive order: the dry run counts it (`tallyRestore`), the restore walks it again beside
 * the archive's entries (`plannedObjects`).
 */
import type { ComponentSource } from '../../archive/componentSource.js';
import { UsageError } from '../../base/errors.js';
import { formatBytes } from '../../base/format.js';
import { Lookahead, mapItems } from '../../base/asyncSequences.js';
import { archivedObjects, type ArchivedObject } from './archivedObjects.js';
import {
  mappedDifferences,
  mergedDifferences,
  UnorderedListing,
  type BucketDifference,
  type ComparableObject,
  type ObjectChange,
} from './diff.js';
import type { ObjectStore } from '../client/store.js';

/** Lines of each kind (add, overwrite, only in the target) a dry run lists per bucket before it counts the rest. */
const LISTED_PER_KIND = 1000;

/** One object of the backup and what a restore does to it. */
export interface PlannedObject {
  object: ArchivedObject;
  change: ObjectChange;
  /** Size of the live object an overwrite replaces (copied aside first). */
  liveSize?: number;
}

export /** What a plan counts of one bucket, and the first lines of each kind. */
class BucketTally {
  readonly count = { add: 0, overwrite: 0, unchanged: 0, targetOnly: 0 };
  readonly lines = { add: [] as string[], overwrite: [] as string[], targetOnly: [] as string[] };
  /** The first objects an overwrite replaces, for the gate. */
  readonly replaced: string[] = [];

  constructor(
    readonly name: string,
    readonly exists: boolean,
  ) {}

  note(kind: keyof BucketTally['lines'], line: () => string): void {
    this.count[kind] += 1;
    if (this.lines[kind].length < LISTED_PER_KIND) this.lines[kind].push(line());
  }

  actions(): string[] {
    const { add, overwrite, unchanged, targetOnly } = this.count;
    return [
      `bucket ${this.name}: ${this.exists ? 'exists' : 'create'} — ${add} to add, ${overwrite} to overwrite, ${unchanged} unchanged, ` +
        `${targetOnly} only in the target (kept)`,
      ...withMore(this.lines.add, add),
      ...withMore(this.lines.overwrite, overwrite),
      ...withMore(this.lines.targetOnly, targetOnly),
    ];
  }
}

/** Raised when a bucket's objects, in the archive or in the store, are not in key order. */
export class UnorderedBucket extends Error {
  constructor(readonly bucket: string) {
    super(`bucket ${bucket} is not listed in key order`);
  }
}

/** Walks the comparison once, counting what a restore would do, without changing anything. */
export async function tallyRestore(
  store: ObjectStore,
  source: ComponentSource,
  buckets: readonly string[],
  unordered: ReadonlySet<string>,
) {
  const live = new Set(await store.listBuckets());
  const tallies = new Map(buckets.map((name) => [name, new BucketTally(name, live.has(name))]));
  const pending = { objects: 0, bytes: 0 };
  const stamp = 'orkestra-pre-restore-<UTC stamp>';
  for await (const { bucket, difference } of differences(store, source, buckets, unordered, live)) {
    const tally = tallies.get(bucket)!;
    if (difference.kind === 'target-only') {
      tally.note('targetOnly', () => `  only in target: ${bucket}/${difference.live.key} (kept as is)`);
      continue;
    }
    const { object, change } = difference;
    if (change === 'unchanged') {
      tally.count.unchanged += 1;
      continue;
    }
    pending.objects += 1;
    pending.bytes += object.size;
    if (change === 'add') tally.note('add', () => `  add ${bucket}/${object.key} (${formatBytes(object.size)})`);
    else {
      tally.note(
        'overwrite',
        () => `  overwrite ${bucket}/${object.key} (${formatBytes(object.size)}; the current object is kept in bucket ${stamp})`,
      );
      if (tally.replaced.length < LISTED_PER_KIND) tally.replaced.push(`${bucket}/${object.key}`);
    }
  }
  return { tallies: [...tallies.values()], pending };
}

/** The backup's objects, each with what a restore does to it, in archive order. */
export async function* plannedObjects(
  store: ObjectStore,
  source: ComponentSource,
  buckets: readonly string[],
  unordered: ReadonlySet<string>,
): AsyncGenerator<PlannedObject, undefined> {
  const live = new Set(await store.listBuckets());
  for await (const { difference } of differences(store, source, buckets, unordered, live)) {
    if (difference.kind === 'archived') yield { object: difference.object, change: difference.change, liveSize: difference.live?.size };
  }
  return undefined;
}

/**
 * The comparison of every bucket of the backup with the store, bucket after bucket in archive
 * order (then the backup's empty buckets, whose live objects are all the target's own).
 */
async function* differences(
  store: ObjectStore,
  source: ComponentSource,
  buckets: readonly string[],
  unordered: ReadonlySet<string>,
  live: ReadonlySet<string>,
): AsyncGenerator<{ bucket: string; difference: BucketDifference<ArchivedObject & ComparableObject> }> {
  const objects = new Lookahead(archivedObjects(source, buckets));
  const compared = new Set<string>();
  const compare = async function* (bucket: string, archived: AsyncIterable<ArchivedObject>) {
    compared.add(bucket);
    const comparable = mapItems(archived, (object) => ({ ...object, etags: etagsOf(object) }));
    if (!live.has(bucket)) {
      for await (const object of comparable) yield { bucket, difference: { kind: 'archived' as const, object, change: 'add' as const } };
      return;
    }
    const differ = unordered.has(bucket) ? mappedDifferences : mergedDifferences;
    try {
      for await (const difference of differ(comparable, store.listObjects(bucket))) yield { bucket, difference };
    } catch (error) {
      throw error instanceof UnorderedListing ? new UnorderedBucket(bucket) : error;
    }
  };
  for (let next = await objects.peek(); next; next = await objects.peek()) {
    const bucket = next.bucket;
    if (compared.has(bucket)) {
      throw new UsageError(`${source.archiveName}: the objects of bucket ${bucket} are not together in the archive.`, {
        hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
      });
    }
    yield* compare(
      bucket,
      objects.takeWhile((object) => object.bucket === bucket),
    );
  }
  for (const bucket of buckets)
    if (!compared.has(bucket))
      yield* compare(
        bucket,
        mapItems([], (object: ArchivedObject) => object),
      );
}

function etagsOf(object: ArchivedObject): string[] {
  return [object.md5, object.multipartEtag, object.etag].filter((etag): etag is string => Boolean(etag));
}

export /** The first lines of a kind, then how many more there are. */
function withMore(lines: readonly string[], total: number): string[] {
  return total > lines.length ? [...lines, `  … and ${total - lines.length} more`] : [...lines];
}
