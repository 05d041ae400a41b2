import { z } from 'zod';
import type { IndexedFile } from '../../archive/fileIndex.js';
import { UsageError } from '../../base/errors.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { readDetails } from '../../archive/componentDetails.js';
import { objectPath } from './objectPaths.js';
import { isValidBucketName } from '../client/names.js';

/** What the backup recorded of each object beside its file in the index (since v1.1). */
const ObjectDetailsSchema = z.object({
  key: z.string(),
  md5: z.string().optional(),
  etag: z.string().optional(),
  multipartEtag: z.string().optional(),
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type ObjectDetails = z.infer<typeof ObjectDetailsSchema>;

/** v1 archives listed every object in the manifest's details. */
const V1ObjectSchema = ObjectDetailsSchema.extend({ path: z.string(), size: z.number().int().nonnegative() });

/**
 * `details.rustfs`: since v1.1 only the bucket names (each object's record is in the index); v1
 * archives hold every object's record here.
 */
const RustfsDetailsSchema = z.union([
  z.object({ buckets: z.array(z.string()) }),
  z.object({ buckets: z.array(z.object({ name: z.string(), objects: z.array(V1ObjectSchema) })) }),
]);
type RustfsDetails = z.infer<typeof RustfsDetailsSchema>;

/** One object of the backup, in archive order. */
export interface ArchivedObject extends ObjectDetails {
  bucket: string;
  /** Path inside the bucket's folder of the archive. */
  path: string;
  size: number;
  /** Whether the backup recorded checksums and attributes (false for archives of the original scripts). */
  recorded: boolean;
  /** The SHA-256 of the content, as the archive's index records it. */
  sha256?: string;
}

/** The buckets of the backup, empty ones included, each checked against S3's naming rules. */
export async function archivedBucketNames(source: ComponentSource): Promise<string[]> {
  const details = readDetails(RustfsDetailsSchema, source, 'rustfs');
  if (!details) return bucketsOfFiles(source);
  return checkedNames(
    details.buckets.map((bucket) => (typeof bucket === 'string' ? bucket : bucket.name)),
    source,
  );
}

/**
 * Every object of the backup in archive order, streamed from the index (a million objects are
 * never held at once). `bucketNames` are `archivedBucketNames`' answer, asked once by the caller
 * (for a legacy archive it reads the whole file list). Refuses, with the archive's name, an object whose record is damaged.
 */
export async function* archivedObjects(source: ComponentSource, bucketNames: readonly string[]): AsyncGenerator<ArchivedObject> {
  const details = readDetails(RustfsDetailsSchema, source, 'rustfs');
  const names = new Set(bucketNames);
  const v1 = details && isV1(details) ? v1Records(details) : undefined;
  for await (const file of source.files()) {
    const [bucket, path] = splitBucket(file, source);
    if (!names.has(bucket)) throw damaged(source, `rustfs/${file.path} is in a bucket the manifest does not list`);
    if (v1) {
      const record = v1.get(file.path);
      if (!record) throw damaged(source, `rustfs/${file.path} is not in the object list`);
      v1.delete(file.path);
      if (record.size !== file.size)
        throw damaged(source, `rustfs/${file.path} is ${file.size} bytes, its object record says ${record.size}`);
      yield { ...record, bucket, path, recorded: true, sha256: file.sha256 };
    } else if (details) {
      const parsed = ObjectDetailsSchema.safeParse(file.details);
      if (!parsed.success) throw damaged(source, `the index record of rustfs/${file.path} is invalid`);
      if (objectPath(parsed.data.key) !== path)
        throw damaged(source, `rustfs/${file.path} does not match its key ${JSON.stringify(parsed.data.key)}`);
      yield { ...parsed.data, bucket, path, size: file.size, recorded: true, sha256: file.sha256 };
    } else {
      yield { key: path, bucket, path, size: file.size, recorded: false, sha256: file.sha256 };
    }
  }
  const unseen = v1?.keys().next();
  if (unseen && !unseen.done) throw damaged(source, `rustfs/${unseen.value} is in the manifest's object list but not in the archive`);
}

function isV1(details: RustfsDetails): details is Extract<RustfsDetails, { buckets: { name: string }[] }> {
  return details.buckets.some((bucket) => typeof bucket !== 'string');
}

/** A v1 manifest's object records by archive path; bounded by the size a v1 manifest may have. */
function v1Records(details: Extract<RustfsDetails, { buckets: { name: string }[] }>) {
  const records = new Map<string, z.infer<typeof V1ObjectSchema>>();
  for (const bucket of details.buckets) for (const object of bucket.objects) records.set(`${bucket.name}/${object.path}`, object);
  return records;
}

async function bucketsOfFiles(source: ComponentSource): Promise<string[]> {
  const names = new Set<string>();
  for await (const file of source.files()) names.add(splitBucket(file, source)[0]);
  return checkedNames([...names], source);
}

function splitBucket(file: IndexedFile, source: ComponentSource): [string, string] {
  const slash = file.path.indexOf('/');
  if (slash <= 0) throw damaged(source, `rustfs/${file.path} is not inside a bucket folder`);
  return [file.path.slice(0, slash), file.path.slice(slash + 1)];
}

function checkedNames(names: string[], source: ComponentSource): string[] {
  const invalid = names.find((name) => !isValidBucketName(name));
  if (invalid !== undefined) throw damaged(source, `${JSON.stringify(invalid)} is not a valid S3 bucket name`);
  return names;
}

function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}
