import type { LiveObject } from './store.js';

export interface ArchivedObject {
  key: string;
  size: number;
  /** ETags this content may carry in a store: its MD5, the multipart ETag of our part size, the source's ETag. */
  etags: readonly string[];
}

export type ObjectChange = 'add' | 'overwrite' | 'unchanged';

export interface BucketDiff {
  changes: Map<string, ObjectChange>;
  /** Objects in the live bucket that the backup does not have: listed, never touched. */
  targetOnly: LiveObject[];
}

/** Compares a bucket in the backup with the live one (undefined when the bucket does not exist). */
export function diffBucket(archived: readonly ArchivedObject[], live: readonly LiveObject[] | undefined): BucketDiff {
  const liveByKey = new Map((live ?? []).map((object) => [object.key, object]));
  const changes = new Map<string, ObjectChange>();
  for (const object of archived) {
    const current = liveByKey.get(object.key);
    if (!current) changes.set(object.key, 'add');
    else changes.set(object.key, sameContent(object, current) ? 'unchanged' : 'overwrite');
  }
  const targetOnly = (live ?? []).filter((object) => !changes.has(object.key));
  return { changes, targetOnly };
}

function sameContent(archived: ArchivedObject, live: LiveObject): boolean {
  return archived.size === live.size && live.etag !== '' && archived.etags.includes(live.etag);
}
