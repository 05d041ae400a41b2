import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Component, ComponentSink, ComponentSource, ProgressReporter, RestorePlan } from '../core/component.js';
import { BoundedTasks, fetchAhead } from '../base/concurrency.js';
import { PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { readDetails } from '../core/details.js';
import { formatBytes, plural } from '../base/format.js';
import type { Project } from '../core/project.js';
import type { Services } from '../core/services.js';
import { utcStamp } from '../core/timestamps.js';
import { readTuning } from '../core/tuning.js';
import { containerAvailability, requireRunning } from '../docker/containers.js';
import { ObjectDigest } from '../s3/digest.js';
import { diffBucket, type ArchivedObject, type ObjectChange } from '../s3/diff.js';
import { resolveEndpoint } from '../s3/endpoint.js';
import { knownIncompressible, objectPath } from '../s3/objectPaths.js';
import { withRetries } from '../s3/retry.js';
import {
  isValidBucketName,
  ObjectStore,
  SINGLE_UPLOAD_LIMIT,
  type DownloadedObject,
  type LiveObject,
  type ObjectAttributes,
} from '../s3/store.js';

const DEFAULT_CONTAINER = 'orkestra-rustfs';
const LISTED_PER_KIND = 1000;
/** Objects up to this size are downloaded ahead, in memory, while earlier ones are archived. */
const PREFETCH_LIMIT = 2 * 1024 * 1024;
/** Bytes of small objects being uploaded at once during a restore. */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;

const ObjectRecordSchema = z.object({
  key: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative(),
  md5: z.string().optional(),
  etag: z.string().optional(),
  multipartEtag: z.string().optional(),
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
const RustfsDetailsSchema = z.object({
  buckets: z.array(z.object({ name: z.string(), objects: z.array(ObjectRecordSchema) })),
});
type ObjectRecord = z.infer<typeof ObjectRecordSchema>;
type BucketRecord = z.infer<typeof RustfsDetailsSchema>['buckets'][number];

interface PlannedObject {
  bucket: string;
  record: ObjectRecord;
  change: ObjectChange;
  /** Size of the live object an overwrite replaces (copied aside first). */
  liveSize?: number;
}

interface RustfsPlan extends RestorePlan {
  readonly buckets: readonly string[];
  /** By archive path inside `rustfs/`. */
  readonly objects: ReadonlyMap<string, PlannedObject>;
}

/**
 * The S3-compatible object store: every bucket and object through the S3 API, with content
 * type and user metadata recorded in the manifest; restored by creating the buckets and
 * uploading what is missing or different. An object about to be overwritten is first copied
 * server-side into a `orkestra-pre-restore-<stamp>` bucket; objects only in the target stay.
 */
export const rustfs: Component<RustfsPlan> = {
  name: 'rustfs',
  title: 'RustFS object store',

  availability: ({ project, services }) => containerAvailability(services, project.containerName('rustfs', DEFAULT_CONTAINER)),

  async backup({ project, services, sink, progress, signal }) {
    const store = await connect(project, services, progress);
    const { s3Concurrency } = readTuning();
    try {
      const buckets: BucketRecord[] = [];
      let count = 0;
      for (const bucket of await store.listBuckets()) {
        const objects: ObjectRecord[] = [];
        const usedPaths = new Set<string>();
        // Small objects download ahead while earlier ones go into the archive, which is written in order.
        const downloads = fetchAhead(store.listObjects(bucket), (listed) => download(store, bucket, listed, signal), {
          concurrency: s3Concurrency,
          mayPrefetch: (listed) => listed.size <= PREFETCH_LIMIT,
        });
        for await (const downloaded of downloads) {
          signal.throwIfAborted();
          const path = objectPath(downloaded.key);
          if (usedPaths.has(path)) throw new RuntimeError(`two keys of bucket ${bucket} map to the archive path ${path}.`);
          usedPaths.add(path);
          objects.push(await archiveObject(sink, bucket, path, downloaded));
          count += 1;
        }
        buckets.push({ name: bucket, objects });
      }
      return { details: { buckets }, summary: `${plural(buckets.length, 'bucket')}, ${plural(count, 'object')}` };
    } finally {
      store.destroy();
    }
  },

  async planRestore({ project, services, source, progress }) {
    const buckets = archivedBuckets(source);
    const missing = missingObjects(source, buckets);
    if (missing.length > 0) throw new UsageError(`${source.archiveName}: ${missing[0]}.`, { hint: 'Nothing was touched.' });
    const store = await connect(project, services, progress);
    try {
      const live = new Set(await store.listBuckets());
      const stamp = 'orkestra-pre-restore-<UTC stamp>';
      const actions: string[] = [`endpoint ${store.location.endpoint}`];
      const replaces: string[] = [];
      const objects = new Map<string, PlannedObject>();
      for (const bucket of buckets) {
        const liveObjects = live.has(bucket.name) ? await collect(store.listObjects(bucket.name)) : undefined;
        const diff = diffBucket(bucket.objects.map(archivedObject), liveObjects);
        const liveSizes = new Map((liveObjects ?? []).map((object) => [object.key, object.size]));
        const byKind = { add: [] as ObjectRecord[], overwrite: [] as ObjectRecord[], unchanged: [] as ObjectRecord[] };
        for (const record of bucket.objects) {
          const change = diff.changes.get(record.key)!;
          byKind[change].push(record);
          objects.set(`${bucket.name}/${record.path}`, { bucket: bucket.name, record, change, liveSize: liveSizes.get(record.key) });
        }
        actions.push(
          `bucket ${bucket.name}: ${liveObjects ? 'exists' : 'create'} — ${byKind.add.length} to add, ${byKind.overwrite.length} to overwrite, ` +
            `${byKind.unchanged.length} unchanged, ${diff.targetOnly.length} only in the target (kept)`,
        );
        actions.push(...listed(byKind.add, (record) => `  add ${bucket.name}/${record.key} (${formatBytes(record.size)})`));
        actions.push(
          ...listed(
            byKind.overwrite,
            (record) =>
              `  overwrite ${bucket.name}/${record.key} (${formatBytes(record.size)}; the current object is kept in bucket ${stamp})`,
          ),
        );
        actions.push(...listed(diff.targetOnly, (object) => `  only in target: ${bucket.name}/${object.key} (kept as is)`));
        replaces.push(...byKind.overwrite.map((record) => `${bucket.name}/${record.key}`));
      }
      return { actions, replaces, warnings: legacyWarning(source), buckets: buckets.map((bucket) => bucket.name), objects };
    } finally {
      store.destroy();
    }
  },

  async restore({ project, services, source, progress, signal, startedAt }, plan) {
    const store = await connect(project, services, progress);
    const asideBucket = `orkestra-pre-restore-${utcStamp(startedAt)}`;
    let asideReady: Promise<unknown> | undefined;
    const pending = [...plan.objects.values()].filter((object) => object.change !== 'unchanged');
    progress.expect(pending.reduce((total, object) => total + object.record.size, 0));
    const done = { uploaded: 0, keptAside: 0 };
    let failedAt: PlannedObject | undefined;
    const retrying = <T>(work: () => Promise<T>) => withRetries(work, { signal, onRetry: (message) => progress.note(message) });
    /** Keeps the live object aside if it is about to be replaced, then uploads; remembers where a failure happened. */
    const put = async (planned: PlannedObject, send: () => Promise<void>) => {
      try {
        if (planned.change === 'overwrite') {
          await (asideReady ??= retrying(() => store.ensureBucket(asideBucket)));
          await retrying(() =>
            store.copyObject(planned.bucket, planned.record.key, asideBucket, `${planned.bucket}/${planned.record.key}`, planned.liveSize),
          );
          done.keptAside += 1;
        }
        await send();
        done.uploaded += 1;
      } catch (error) {
        failedAt ??= planned;
        throw error;
      }
    };
    const uploads = new BoundedTasks(readTuning().s3Concurrency, IN_FLIGHT_BYTES);
    try {
      for (const bucket of plan.buckets) await retrying(() => store.ensureBucket(bucket));
      for await (const entry of source.entries()) {
        const planned = plan.objects.get(entry.path);
        if (!planned || planned.change === 'unchanged') continue;
        signal.throwIfAborted();
        const { bucket, record } = planned;
        const attributes: ObjectAttributes = { contentType: record.contentType, metadata: record.metadata };
        if (record.size <= SINGLE_UPLOAD_LIMIT) {
          // Read whole (at most 16 MiB) so that several go up at once and each can be sent again after an outage.
          const body = await readWhole(countBytes(entry.content, progress), record.size, `rustfs/${entry.path} in the archive`);
          await uploads.add(body.length, () =>
            put(planned, () => retrying(() => store.putBuffer(bucket, record.key, body, attributes, signal))),
          );
        } else {
          // A large object streams from the archive once, in parts; a failed part is sent again on its own.
          const content = countBytes(entry.content, progress);
          await put(planned, () => store.putMultipart(bucket, record.key, content, attributes, { signal, retry: retrying }));
        }
      }
      await uploads.drain();
    } catch (error) {
      await uploads.drain().catch(() => undefined);
      const where = failedAt ? ` at ${failedAt.bucket}/${failedAt.record.key}` : '';
      const message = error instanceof Error ? error.message : String(error);
      throw new RuntimeError(`${done.uploaded} of ${pending.length} objects were restored before a failure${where}: ${message}`, {
        hint: 'Objects not yet restored are unchanged; run the restore again once the store answers.',
      });
    } finally {
      store.destroy();
    }
    const aside = done.keptAside > 0 ? `; ${done.keptAside} overwritten objects kept in bucket ${asideBucket}` : '';
    return { summary: `${done.uploaded} objects uploaded, ${plan.objects.size - pending.length} unchanged${aside}` };
  },

  async examine({ source }) {
    const problems: string[] = [];
    let buckets: BucketRecord[] = [];
    try {
      buckets = archivedBuckets(source);
    } catch (error) {
      problems.push((error as Error).message);
    }
    problems.push(...missingObjects(source, buckets));
    const sizes = new Map(source.files.map((file) => [file.path, file.size]));
    const listed = new Set<string>();
    for (const bucket of buckets) {
      for (const object of bucket.objects) {
        const path = `${bucket.name}/${object.path}`;
        listed.add(path);
        const size = sizes.get(path);
        if (size !== undefined && size !== object.size)
          problems.push(`rustfs/${path} is ${size} bytes, its object record says ${object.size}`);
      }
    }
    for (const path of sizes.keys()) if (!listed.has(path)) problems.push(`rustfs/${path} is not in the object list`);
    const summary = buckets.map((bucket) => ({
      name: bucket.name,
      objects: bucket.objects.length,
      bytes: bucket.objects.reduce((total, object) => total + object.size, 0),
    }));
    return {
      facts: { buckets: summary },
      lines: summary.map((bucket) => `${bucket.name}  ${plural(bucket.objects, 'object')}  ${formatBytes(bucket.bytes)}`),
      problems,
    };
  },
};

async function connect(project: Project, services: Services, progress: ProgressReporter): Promise<ObjectStore> {
  const container = await requireRunning(services, project.containerName('rustfs', DEFAULT_CONTAINER));
  const { endpoint, source } = resolveEndpoint(project.setting('RUSTFS_ENDPOINT', container.env), container);
  const accessKeyId = project.setting('RUSTFS_ACCESS_KEY', container.env) ?? container.env.MINIO_ROOT_USER;
  const secretAccessKey = project.setting('RUSTFS_SECRET_KEY', container.env) ?? container.env.MINIO_ROOT_PASSWORD;
  if (!accessKeyId || !secretAccessKey) {
    throw new PreconditionError('no credentials for the object store.', {
      hint: 'Set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY in docker/.env.',
    });
  }
  progress.note(`object store at ${endpoint} (${source})`);
  return new ObjectStore({ endpoint, accessKeyId, secretAccessKey });
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

/** Streams one object into the archive, hashing it on the way for the manifest's record. */
async function archiveObject(sink: ComponentSink, bucket: string, path: string, object: Downloaded): Promise<ObjectRecord> {
  const digest = new ObjectDigest();
  const body = object.buffered ? Readable.from([object.buffered]) : object.body;
  const flowing = pipeline(body, digest);
  try {
    await sink.addFile(`${bucket}/${path}`, object.size, digest, {
      compressible: knownIncompressible(object.key, object.contentType) ? false : undefined,
    });
    await flowing;
  } catch (error) {
    body.destroy();
    await flowing.catch(() => undefined);
    throw error;
  }
  return {
    key: object.key,
    path,
    size: object.size,
    md5: digest.md5,
    etag: object.etag || undefined,
    multipartEtag: digest.multipartEtag(SINGLE_UPLOAD_LIMIT),
    contentType: object.contentType,
    metadata: object.metadata && Object.keys(object.metadata).length > 0 ? object.metadata : undefined,
  };
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

async function* countBytes(content: AsyncIterable<Buffer>, progress: ProgressReporter): AsyncGenerator<Buffer> {
  for await (const chunk of content) {
    progress.advance(chunk.length);
    yield chunk;
  }
}

/** The buckets and objects of the backup: from the manifest, or from the file tree of a legacy archive. */
function archivedBuckets(source: ComponentSource): BucketRecord[] {
  const buckets = recordedBuckets(source);
  const invalid = buckets.find((bucket) => !isValidBucketName(bucket.name));
  if (invalid) {
    throw new UsageError(`${source.archiveName}: ${JSON.stringify(invalid.name)} is not a valid S3 bucket name.`, {
      hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
    });
  }
  return buckets;
}

function recordedBuckets(source: ComponentSource): BucketRecord[] {
  const details = readDetails(RustfsDetailsSchema, source, 'rustfs');
  if (details) return details.buckets;
  const buckets = new Map<string, ObjectRecord[]>();
  for (const file of source.files) {
    const slash = file.path.indexOf('/');
    if (slash <= 0) throw new UsageError(`${source.archiveName}: rustfs/${file.path} is not inside a bucket folder.`);
    const bucket = file.path.slice(0, slash);
    const key = file.path.slice(slash + 1);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), { key, path: key, size: file.size }]);
  }
  return [...buckets].map(([name, objects]) => ({ name, objects }));
}

/** Objects the manifest lists that the archive does not hold. */
function missingObjects(source: ComponentSource, buckets: readonly BucketRecord[]): string[] {
  const inArchive = new Set(source.files.map((file) => file.path));
  return buckets.flatMap((bucket) =>
    bucket.objects
      .filter((object) => !inArchive.has(`${bucket.name}/${object.path}`))
      .map((object) => `rustfs/${bucket.name}/${object.path} is in the manifest's object list but not in the archive`),
  );
}

function archivedObject(record: ObjectRecord): ArchivedObject {
  return {
    key: record.key,
    size: record.size,
    etags: [record.md5, record.multipartEtag, record.etag].filter((etag): etag is string => Boolean(etag)),
  };
}

function legacyWarning(source: ComponentSource): string[] {
  return source.details === undefined
    ? [
        'archive made by the original backup.sh: no checksums or content types recorded; existing objects are overwritten (after being kept aside)',
      ]
    : [];
}

function listed<T>(items: readonly T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, LISTED_PER_KIND).map(line);
  if (items.length > LISTED_PER_KIND) lines.push(`  … and ${items.length - LISTED_PER_KIND} more`);
  return lines;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
