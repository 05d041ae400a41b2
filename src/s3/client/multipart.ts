import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BoundedTasks } from '../../base/concurrency.js';

/** Larger objects go up in parts of this size. */
export const MULTIPART_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploading at once. With the part being filled, three part buffers exist, reused from object to object. */
const MULTIPART_QUEUE = 2;
/** Parts of a multipart copy (S3 allows 5 MiB to 5 GiB each, 10,000 parts). */
const COPY_PART_SIZE = 1024 ** 3;

export interface MultipartOptions {
  signal?: AbortSignal;
  /** Runs one request again after transient failures (see withRetries). */
  retry: <T>(work: () => Promise<T>) => Promise<T>;
}

/** One request to the store, its failure turned into the store's one-line error about what was being done. */
export type StoreCall = <T>(doing: string, work: () => Promise<T>) => Promise<T>;

/** The object's content type and metadata, kept by the store with it. */
export type ObjectHeaders = Pick<CreateMultipartUploadCommandInput, 'ContentType' | 'Metadata'>;

/** Where an object goes: the store's client, how its requests fail, and the object's bucket and key. */
export interface MultipartTarget {
  readonly client: S3Client;
  readonly call: StoreCall;
  readonly bucket: string;
  readonly key: string;
}

/**
 * Uploads a stream of any chunking in parts of MULTIPART_PART_SIZE. Each part is copied into
 * a buffer of `spareParts` (or a new one; each goes back there once the store has its part), so
 * nothing grows with the object's size, and a part that fails is sent again on its own through `retry`.
 */
export async function uploadInParts(
  { client, call, bucket, key }: MultipartTarget,
  body: AsyncIterable<Buffer>,
  headers: ObjectHeaders,
  { signal, retry }: MultipartOptions,
  spareParts: Buffer[],
): Promise<void> {
  const request = <T>(doing: string, work: () => Promise<T>) => retry(() => call(doing, work));
  const started = await request(`starting the upload of ${bucket}/${key}`, () =>
    client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...headers }), { abortSignal: signal }),
  );
  const uploadId = started.UploadId!;
  const parts: CompletedPart[] = [];
  const uploads = new BoundedTasks(MULTIPART_QUEUE, Number.POSITIVE_INFINITY);
  try {
    for await (const part of fixedSizeParts(body, () => spareParts.pop() ?? Buffer.allocUnsafe(MULTIPART_PART_SIZE))) {
      const partNumber = parts.length + 1;
      parts.push({ PartNumber: partNumber });
      await uploads.add(0, async () => {
        try {
          const { ETag } = await request(`uploading part ${partNumber} of ${bucket}/${key}`, () =>
            client.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: partNumber,
                Body: part.bytes,
                ContentLength: part.bytes.length,
              }),
              { abortSignal: signal },
            ),
          );
          parts[partNumber - 1].ETag = ETag;
        } finally {
          spareParts.push(part.buffer);
        }
      });
    }
    await uploads.drain();
    await request(`completing the upload of ${bucket}/${key}`, () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), {
        abortSignal: signal,
      }),
    );
  } catch (error) {
    await uploads.drain().catch(() => undefined);
    // Leaves no half-uploaded parts behind; if the store is gone, its own expiry removes them.
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}

/** A server-side copy of `source` (`bucket/escaped-key`) of `size` bytes as a multipart upload whose parts are byte ranges of it. */
export async function copyInParts({ client, call, bucket, key }: MultipartTarget, source: string, size: number): Promise<void> {
  const head = await call(`reading ${source}`, () =>
    client.send(new HeadObjectCommand({ Bucket: source.split('/')[0], Key: decodeURIComponent(source.slice(source.indexOf('/') + 1)) })),
  );
  const created = await call(`starting a copy of ${source}`, () =>
    client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: head.ContentType, Metadata: head.Metadata })),
  );
  const uploadId = created.UploadId!;
  try {
    const parts: CompletedPart[] = [];
    for (const [index, range] of copyRanges(size).entries()) {
      const copied = await call(`copying part ${index + 1} of ${source}`, () =>
        client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: source,
            CopySourceRange: range,
          }),
        ),
      );
      parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag });
    }
    await call(`completing the copy of ${source}`, () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
    );
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}

/** The `bytes=first-last` ranges of a multipart copy of an object of this size. */
export function copyRanges(size: number, partSize = COPY_PART_SIZE): string[] {
  const ranges: string[] = [];
  for (let start = 0; start < size; start += partSize) ranges.push(`bytes=${start}-${Math.min(start + partSize, size) - 1}`);
  return ranges;
}

/** Cuts a stream into parts of exactly the buffer's size (the last one shorter), copying into buffers from `take`. */
export async function* fixedSizeParts(body: AsyncIterable<Buffer>, take: () => Buffer): AsyncGenerator<{ buffer: Buffer; bytes: Buffer }> {
  let buffer = take();
  let filled = 0;
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.length) {
      const copied = chunk.copy(buffer, filled, offset);
      filled += copied;
      offset += copied;
      if (filled === buffer.length) {
        yield { buffer, bytes: buffer };
        buffer = take();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { buffer, bytes: buffer.subarray(0, filled) };
}
