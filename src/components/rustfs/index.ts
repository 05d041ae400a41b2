import { countedAsProgress } from '../../model/progress.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Component, ComponentSink, RestorePlan } from '../../core/component.js';
import type { ComponentShape } from '../../model/shape.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { BoundedTasks, fetchAhead } from '../../base/concurrency.js';
import { RuntimeError, UsageError } from '../../base/errors.js';
import { formatBytes, plural, withoutFinalPeriod } from '../../base/format.js';
import { utcStamp } from '../../core/timestamps.js';
import { ObjectDigest } from '../../s3/rustfs/digest.js';
import { archivedBucketNames, archivedObjects, type ObjectDetails } from '../../s3/rustfs/archivedObjects.js';
import {
  plannedObjects,
  tallyRestore,
  UnorderedBucket,
  wholeScope,
  withMore,
  type ObjectScope,
  type PlannedObject,
} from '../../s3/rustfs/restoreComparison.js';
import { ChangeJournal } from './putBack.js';
import { OBJECT_SELECTORS, objectSelection, objectsRead } from './selection.js';
import { connectProjectStore as connect, storeAvailability } from '../../s3/rustfs/projectStore.js';
import { rustfsDrill } from './drill.js';
import { findObjects, objectGroups } from './find.js';
import { pickObjects } from './objectPicks.js';
import { knownIncompressible, objectPath } from '../../s3/rustfs/objectPaths.js';
import { withRetries } from '../../s3/client/retry.js';
import {
  SINGLE_UPLOAD_LIMIT,
  type DownloadedObject,
  type LiveObject,
  type ObjectAttributes,
  type ObjectStore,
} from '../../s3/client/store.js';

/** Objects up to this size are downloaded ahead, in memory, while earlier ones are archived. */
const PREFETCH_LIMIT = 2 * 1024 * 1024;
/** Bytes of small objects being uploaded at once during a restore. */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;

interface RustfsPlan extends RestorePlan {
  /** The objects compared, and where each goes. */
  readonly scope: ObjectScope;
  /** The buckets written into, created when missing. */
  readonly targets: readonly string[];
  /** Buckets compared through a map of their live listing, because a side was not in key order. */
  readonly unordered: ReadonlySet<string>;
  /** Objects to add or overwrite, and their bytes. */
  readonly pending: { objects: number; bytes: number };
}

/**
 * The S3-compatible object store: every bucket and object through the S3 API, with each
 * object's key, content type and user metadata recorded beside it in the archive's index;
 * restored by creating the buckets and uploading what is missing or different. An object about
 * to be overwritten is first copied server-side into a `orkestra-pre-restore-<stamp>` bucket;
 * objects only in the target stay. Objects stream through every step: a million of them are
 * never held in memory at once.
 */
export const rustfs: Component<RustfsPlan> = {
  name: 'rustfs',
  title: 'RustFS object store',

  availability: ({ project, services }) => storeAvailability(project, services),

  async backup({ project, services, sink, progress, signal }) {
    const store = await connect(project, services, progress);
    try {
      const buckets: string[] = [];
      const groups: ComponentShape['groups'] = {};
      let count = 0;
      for (const bucket of await store.listBuckets()) {
        const group = (groups[bucket] = { items: 0, bytes: 0 });
        // Small objects download ahead while earlier ones go into the archive, which is written
        // in listing order. objectPath maps distinct keys to distinct paths (plain keys as they
        // are, the others by hash under a folder no plain key can start with).
        const downloads = fetchAhead(store.listObjects(bucket), (listed) => download(store, bucket, listed, signal), {
          concurrency: services.tuning.s3Concurrency,
          mayPrefetch: (listed) => listed.size <= PREFETCH_LIMIT,
        });
        for await (const downloaded of downloads) {
          signal.throwIfAborted();
          await archiveObject(sink, bucket, downloaded);
          count += 1;
          group.items += 1;
          group.bytes += downloaded.size;
        }
        buckets.push(bucket);
      }
      return {
        details: { buckets },
        summary: `${plural(buckets.length, 'bucket')}, ${plural(count, 'object')}`,
        shape: { items: 'objects', group: 'bucket', groups },
      };
    } finally {
      store.destroy();
    }
  },

  async planRestore({ project, services, source, progress, selection }) {
    const archived = await archivedBucketNames(source);
    // A malformed selector is refused before the store is reached.
    let picked = selection && objectSelection(selection, archived);
    const store = await connect(project, services, progress);
    try {
      const unordered = new Set<string>();
      for (;;) {
        const scope = picked ?? wholeScope(archived);
        try {
          const { tallies, pending } = await tallyRestore(store, source, scope, unordered);
          const replaces = tallies.flatMap((tally) => withMore(tally.replaced, tally.count.overwrite));
          picked?.refuseUnmatched(source.archiveName);
          picked?.refuseOverwriteBeside(replaces);
          const actions = [
            ...(picked?.lines() ?? []),
            ...(picked?.to ? [besideLine(picked.to)] : []),
            `endpoint ${store.location.endpoint}`,
            ...tallies.flatMap((tally) => tally.actions()),
          ];
          const targets = [...new Set(scope.buckets.map((bucket) => scope.targetBucket(bucket)))];
          const plan = { actions, replaces, warnings: legacyWarning(source), scope, targets, unordered, pending };
          return picked ? { ...plan, selection: picked.impact() } : plan;
        } catch (error) {
          if (!(error instanceof UnorderedBucket) || unordered.has(error.bucket)) throw error;
          unordered.add(error.bucket); // compared again through a map of its listing
          picked = selection && objectSelection(selection, archived); // counting again from nothing
        }
      }
    } finally {
      store.destroy();
    }
  },

  async restore({ project, services, source, progress, signal, startedAt, selection }, plan) {
    const store = await connect(project, services, progress);
    const asideBucket = `orkestra-pre-restore-${utcStamp(startedAt)}`;
    let asideReady: Promise<unknown> | undefined;
    progress.expect(plan.pending.bytes);
    const done = { uploaded: 0, keptAside: 0, unchanged: 0 };
    let failedAt: PlannedObject | undefined;
    const retrying = <T>(work: () => Promise<T>) => withRetries(work, { signal, onRetry: (message) => progress.note(message) });
    // A selective restore writes down each change before making it, to undo them all on a failure.
    const journal = selection === undefined ? undefined : await ChangeJournal.open();
    /** Keeps the live object aside if it is about to be replaced, then uploads; remembers where a failure happened. */
    const put = async (planned: PlannedObject, send: () => Promise<void>) => {
      const { bucket, key } = planned.target;
      try {
        if (planned.change === 'overwrite' && selection?.beside) {
          throw new RuntimeError(`${bucket}/${key} appeared during the restore; --to-bucket never overwrites`);
        }
        if (planned.change === 'overwrite') {
          await (asideReady ??= retrying(() => store.ensureBucket(asideBucket)));
          await retrying(() => store.copyObject(bucket, key, asideBucket, `${bucket}/${key}`, planned.liveSize));
          done.keptAside += 1;
        }
        await journal?.note(planned.change === 'overwrite' ? 'overwrite' : 'add', bucket, key, planned.liveSize);
        await send();
        done.uploaded += 1;
      } catch (error) {
        failedAt ??= planned;
        throw error;
      }
    };
    const uploads = new BoundedTasks(services.tuning.s3Concurrency, IN_FLIGHT_BYTES);
    try {
      for (const bucket of plan.targets) await retrying(() => store.ensureBucket(bucket));
      // Compared again as the upload goes, in the plan's modes: an object that appeared since the
      // dry run is kept aside before it is overwritten, not replaced as an addition.
      const decisions = plannedObjects(store, source, plan.scope, plan.unordered);
      let next = await decisions.next();
      // A selection reads only its objects: from where the index puts them, when the archive allows.
      for await (const entry of source.entries(selection && objectsRead(selection))) {
        if (next.done && journal) break; // the rest of the archive holds nothing selected
        const planned = next.value;
        if (!planned || `${planned.object.bucket}/${planned.object.path}` !== entry.path) {
          if (journal) continue; // not selected
          throw new UsageError(`rustfs/${entry.path} in the archive is not where its index put it.`);
        }
        next = await decisions.next();
        if (planned.change === 'unchanged') {
          done.unchanged += 1;
          continue;
        }
        signal.throwIfAborted();
        const { bucket, key } = planned.target;
        const { size, contentType, metadata } = planned.object;
        const attributes: ObjectAttributes = { contentType, metadata };
        if (size <= SINGLE_UPLOAD_LIMIT) {
          // Read whole (at most 16 MiB) so that several go up at once and each can be sent again after an outage.
          const body = await readWhole(countedAsProgress(entry.content, progress), size, `rustfs/${entry.path} in the archive`);
          await uploads.add(body.length, () => put(planned, () => retrying(() => store.putBuffer(bucket, key, body, attributes, signal))));
        } else {
          // A large object streams from the archive once, in parts; a failed part is sent again on its own.
          const content = countedAsProgress(entry.content, progress);
          await put(planned, () => store.putMultipart(bucket, key, content, attributes, { signal, retry: retrying }));
        }
      }
      if (!next.done)
        throw new UsageError(`rustfs/${next.value.object.bucket}/${next.value.object.path} is in the index but not in the archive.`);
      await uploads.drain();
      await decisions.return(undefined);
    } catch (error) {
      await uploads.drain().catch(() => undefined);
      const where = failedAt ? ` at ${failedAt.target.bucket}/${failedAt.target.key}` : '';
      // Put back even when interrupted: with retries of their own, which the interrupt does not stop.
      const persisting = <T>(work: () => Promise<T>) =>
        withRetries(work, { signal: new AbortController().signal, onRetry: (message) => progress.note(message) });
      const putBack = journal && (await undoChanges(() => journal.putBack(store, asideBucket, persisting)));
      const message = error instanceof Error ? error.message : String(error);
      throw new RuntimeError(`${done.uploaded} of ${plan.pending.objects} objects were restored before a failure${where}: ${message}`, {
        hint: putBack ?? 'Objects not yet restored are unchanged; run the restore again once the store answers.',
      });
    } finally {
      await journal?.close();
      store.destroy();
    }
    const aside = done.keptAside > 0 ? `; ${done.keptAside} overwritten objects kept in bucket ${asideBucket}` : '';
    return { summary: `${done.uploaded} objects uploaded, ${done.unchanged} unchanged${aside}` };
  },

  async examine({ source }) {
    const problems: string[] = [];
    const summary = new Map<string, { name: string; objects: number; bytes: number }>();
    try {
      const names = await archivedBucketNames(source);
      for (const name of names) summary.set(name, { name, objects: 0, bytes: 0 });
      for await (const object of archivedObjects(source, names)) {
        const bucket = summary.get(object.bucket)!;
        bucket.objects += 1;
        bucket.bytes += object.size;
      }
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(withoutFinalPeriod(error.message.replace(/^[^:]+: /, '')));
    }
    const buckets = [...summary.values()];
    return {
      facts: { buckets },
      lines: buckets.map((bucket) => `${bucket.name}  ${plural(bucket.objects, 'object')}  ${formatBytes(bucket.bytes)}`),
      problems,
    };
  },

  find: findObjects,
  groups: objectGroups,
  drill: rustfsDrill,
  selectors: OBJECT_SELECTORS,
  pickSelectors: pickObjects,
  selectionReads: objectsRead,
};

/** Puts back what a failed selective restore changed: the hint that says what came of it. */
async function undoChanges(putBack: () => Promise<number>): Promise<string> {
  try {
    const undone = await putBack();
    return `${plural(undone, 'object')} it had begun to change ${undone === 1 ? 'was' : 'were'} put back as they were: the selection is as before the restore.`;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `Putting the changed objects back failed too (${withoutFinalPeriod(message)}): the replaced ones are kept in the orkestra-pre-restore-<stamp> bucket.`;
  }
}

function besideLine(to: { bucket: string; prefix: string }): string {
  return `beside: into bucket ${to.bucket} (created when missing) under ${to.prefix}<bucket>/; the live objects are not touched`;
}

interface Downloaded extends DownloadedObject {
  key: string;
  /** The whole body, for objects small enough to download ahead. */
  buffered?: Buffer;
}

async function download(store: ObjectStore, bucket: string, listed: LiveObject, signal: AbortSignal): Promise<Downloaded> {
  const object = await store.getObject(bucket, listed.key, signal);
  if (listed.size > PREFETCH_LIMIT) return { ...object, key: listed.key };
  return { ...object, key: listed.key, buffered: await readWhole(object.body, object.size, `${bucket}/${listed.key}`) };
}

/** Streams one object into the archive; its key, checksums and attributes go beside it in the index. */
async function archiveObject(sink: ComponentSink, bucket: string, object: Downloaded): Promise<void> {
  const digest = new ObjectDigest(object.size, SINGLE_UPLOAD_LIMIT);
  const body = object.buffered ? Readable.from([object.buffered]) : object.body;
  const flowing = pipeline(body, digest);
  const details = (): ObjectDetails => ({
    key: object.key,
    md5: digest.md5,
    etag: object.etag || undefined,
    multipartEtag: digest.multipartEtag,
    contentType: object.contentType,
    metadata: object.metadata && Object.keys(object.metadata).length > 0 ? object.metadata : undefined,
  });
  try {
    await sink.addFile(`${bucket}/${objectPath(object.key)}`, object.size, digest, {
      compressible: knownIncompressible(object.key, object.contentType) ? false : undefined,
      details,
    });
    await flowing;
  } catch (error) {
    body.destroy();
    await flowing.catch(() => undefined);
    throw error;
  }
}

/** Reads content of a known size into one buffer of that size: no chunk list, no second copy. */
async function readWhole(content: AsyncIterable<Buffer>, size: number, name: string): Promise<Buffer> {
  const body = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of content) {
    if (filled + chunk.length > size) throw new RuntimeError(`${name} holds more than the ${size} bytes it was said to have.`);
    filled += chunk.copy(body, filled);
  }
  if (filled !== size) throw new RuntimeError(`${name} holds ${filled} bytes, not the ${size} it was said to have.`);
  return body;
}

function legacyWarning(source: ComponentSource): string[] {
  return source.details === undefined
    ? [
        'archive made by the original backup.sh: no checksums or content types recorded; existing objects are overwritten (after being kept aside)',
      ]
    : [];
}
