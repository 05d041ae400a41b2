import type { ExamineContext, FoundItem, NameMatcher } from '../../core/component.js';
import { archivedBucketNames, archivedObjects } from '../../s3/rustfs/archivedObjects.js';

/** The objects whose key, or `bucket/key`, matches, streamed from the archive's index (never all held). */
export async function* findObjects({ source }: ExamineContext, matches: NameMatcher): AsyncGenerator<FoundItem> {
  for await (const object of archivedObjects(source, await archivedBucketNames(source))) {
    if (matches(object.key) || matches(`${object.bucket}/${object.key}`)) {
      yield { group: { kind: 'bucket', name: object.bucket }, kind: 'object', name: object.key, bytes: object.size };
    }
  }
}

/** The buckets of the backup, empty ones included, from the manifest. */
export async function objectGroups({ source }: ExamineContext): Promise<FoundItem['group'][]> {
  return (await archivedBucketNames(source)).map((name) => ({ kind: 'bucket', name }));
}
