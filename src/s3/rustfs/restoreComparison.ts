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
import type { LiveObject, ObjectStore } from '../client/store.js';

/** Lines of each kind (add, overwrite, only in the target) a dry run lists per bucket before it counts the rest. */
const LISTED_PER_KIND = 1000;

/** One object of the backup and what a restore does to it. */
export interface PlannedObject {
  object: ArchivedObject;
  /** Where it goes: its own bucket and key, or beside them. */
  target: { bucket: string; key: string };
  change: ObjectChange;
  /** Size of the live object an overwrite replaces (copied aside first). */
  liveSize?: number;
}

/**
 * Which objects of the backup a restore compares, and where each goes: every object to its own
 * bucket and key (`wholeScope`), or a selection, in place or beside.
 */
export interface ObjectScope {
  /** Every bucket of the backup (`archivedBucketNames`). */
  readonly archived: readonly string[];
  /** The backup's buckets compared, each with its live counterpart, in the order of `archived`. */
  readonly buckets: readonly string[];
  selects(bucket: string, key: string): boolean;
  targetBucket(bucket: string): string;
  targetKey(bucket: string, key: string): string;
  /** The live key prefixes holding the counterparts of `bucket`'s selection: none inside another, in S3's key order. */
  livePrefixes(bucket: string): readonly string[];
  /** Hears each object compared and what a restore does to it. */
  counted?(object: ArchivedObject, change: ObjectChange): void;
}

/** Every object of `buckets` to its own bucket and key. */
export function wholeScope(buckets: readonly string[]): ObjectScope {
  return {
    archived: buckets,
    buckets,
    selects: () => true,
    targetBucket: (bucket) => bucket,
    targetKey: (_, key) => key,
    livePrefixes: () => [''],
  };
}

/** An object of the backup as compared with its target: `key` is the target's. */
interface Compared extends ComparableObject {
  archived: ArchivedObject;
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
export async function tallyRestore(store: ObjectStore, source: ComponentSource, scope: ObjectScope, unordered: ReadonlySet<string>) {
  const live = new Set(await store.listBuckets());
  const tallies = new Map(scope.buckets.map((name) => [name, new BucketTally(shownName(scope, name), live.has(scope.targetBucket(name)))]));
  const pending = { objects: 0, bytes: 0 };
  const stamp = 'orkestra-pre-restore-<UTC stamp>';
  for await (const { bucket: archivedBucket, difference } of differences(store, source, scope, unordered, live)) {
    const tally = tallies.get(archivedBucket)!;
    const bucket = scope.targetBucket(archivedBucket);
    if (difference.kind === 'target-only') {
      tally.note('targetOnly', () => `  only in target: ${bucket}/${difference.live.key} (kept as is)`);
      continue;
    }
    const { change } = difference;
    const object = { ...difference.object.archived, key: difference.object.key };
    scope.counted?.(difference.object.archived, change);
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
  scope: ObjectScope,
  unordered: ReadonlySet<string>,
): AsyncGenerator<PlannedObject, undefined> {
  const live = new Set(await store.listBuckets());
  for await (const { bucket, difference } of differences(store, source, scope, unordered, live)) {
    if (difference.kind !== 'archived') continue;
    const { archived, key } = difference.object;
    yield {
      object: archived,
      target: { bucket: scope.targetBucket(bucket), key },
      change: difference.change,
      liveSize: difference.live?.size,
    };
  }
  return undefined;
}

/** A bucket as the dry run names it: with where it goes when that is not itself. */
function shownName(scope: ObjectScope, bucket: string): string {
  const target = scope.targetBucket(bucket);
  const prefix = scope.targetKey(bucket, '');
  return target === bucket && prefix === '' ? bucket : `${bucket} → ${target}/${prefix}`;
}

/**
 * The comparison of the scope's objects with the store, bucket after bucket in archive order
 * (then its empty buckets, whose live objects are all the target's own); the objects of the
 * other buckets are read past.
 */
async function* differences(
  store: ObjectStore,
  source: ComponentSource,
  scope: ObjectScope,
  unordered: ReadonlySet<string>,
  live: ReadonlySet<string>,
): AsyncGenerator<{ bucket: string; difference: BucketDifference<Compared> }> {
  const buckets = new Set(scope.buckets);
  const objects = new Lookahead(archivedObjects(source, scope.archived));
  const compared = new Set<string>();
  const compare = async function* (bucket: string, archived: AsyncIterable<ArchivedObject>) {
    compared.add(bucket);
    const comparable = mapItems(
      filtered(archived, (object) => scope.selects(bucket, object.key)),
      (object) => ({
        key: scope.targetKey(bucket, object.key),
        size: object.size,
        etags: etagsOf(object),
        archived: object,
      }),
    );
    const target = scope.targetBucket(bucket);
    if (!live.has(target)) {
      for await (const object of comparable) yield { bucket, difference: { kind: 'archived' as const, object, change: 'add' as const } };
      return;
    }
    const differ = unordered.has(bucket) ? mappedDifferences : mergedDifferences;
    const listing = listedUnder(store, target, scope.livePrefixes(bucket));
    try {
      for await (const difference of differ(comparable, listing)) yield { bucket, difference };
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
    const ofBucket = objects.takeWhile((object) => object.bucket === bucket);
    if (buckets.has(bucket)) yield* compare(bucket, ofBucket);
    else for (compared.add(bucket); !(await ofBucket.next()).done;);
  }
  for (const bucket of scope.buckets)
    if (!compared.has(bucket))
      yield* compare(
        bucket,
        mapItems([], (object: ArchivedObject) => object),
      );
}

async function* filtered<T>(items: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of items) if (keep(item)) yield item;
}

/** The live objects under each prefix in turn: in key order, since no prefix lies inside another and they come sorted. */
async function* listedUnder(store: ObjectStore, bucket: string, prefixes: readonly string[]): AsyncGenerator<LiveObject> {
  for (const prefix of prefixes) yield* store.listObjects(bucket, prefix);
}

function etagsOf(object: ArchivedObject): string[] {
  return [object.md5, object.multipartEtag, object.etag].filter((etag): etag is string => Boolean(etag));
}

export /** The first lines of a kind, then how many more there are. */
function withMore(lines: readonly string[], total: number): string[] {
  return total > lines.length ? [...lines, `  … and ${total - lines.length} more`] : [...lines];
}
