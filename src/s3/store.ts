import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { BoundedTasks } from '../base/concurrency.js';
import { describeS3Error, type StoreHints } from './errors.js';

export { isTransient, StoreServerError } from './errors.js';

export interface S3Location {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface LiveObject {
  key: string;
  size: number;
  etag: string;
}

export interface ObjectAttributes {
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface DownloadedObject extends ObjectAttributes {
  body: Readable;
  size: number;
  etag?: string;
}

/** Objects up to this size are uploaded in one PutObject from memory, so a retry can resend them. */
export const SINGLE_UPLOAD_LIMIT = 16 * 1024 * 1024;
/** Larger objects go up in parts of this size. */
export const MULTIPART_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploading at once. With the part being filled, three part buffers exist, reused from object to object. */
const MULTIPART_QUEUE = 2;
/** The largest object one CopyObject can copy. */
const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;
/** Parts of a multipart copy (S3 allows 5 MiB to 5 GiB each, 10,000 parts). */
const COPY_PART_SIZE = 1024 ** 3;

/** The `bytes=first-last` ranges of a multipart copy of an object of this size. */
export function copyRanges(size: number, partSize = COPY_PART_SIZE): string[] {
  const ranges: string[] = [];
  for (let start = 0; start < size; start += partSize) ranges.push(`bytes=${start}-${Math.min(start + partSize, size) - 1}`);
  return ranges;
}

const RUSTFS_HINTS: StoreHints = {
  unreachable: 'Check that the rustfs container runs, or set RUSTFS_ENDPOINT.',
  credentials: 'Set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY in docker/.env.',
};

/** Transient failures (connection reset, 5xx, throttling) are retried with exponential backoff. */
const MAX_ATTEMPTS = 6;

/**
 * An S3-compatible object store (RustFS, MinIO…) through @aws-sdk/client-s3: path-style
 * addressing, checksums only when the operation requires them (third-party stores reject the
 * SDK's newer default trailers), and errors turned into one line naming the endpoint.
 */
export class ObjectStore {
  private readonly client: S3Client;
  /** Part buffers of finished multipart uploads, for the next one: 8 MiB allocations fragment the allocator. */
  private readonly spareParts: Buffer[] = [];

  constructor(readonly location: S3Location) {
    this.client = new S3Client({
      endpoint: location.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 300_000 },
    });
    keepDotSegments(this.client);
  }

  async listBuckets(): Promise<string[]> {
    const response = await this.call('listing buckets', () => this.client.send(new ListBucketsCommand({})));
    return (response.Buckets ?? [])
      .map((bucket) => bucket.Name!)
      .filter(Boolean)
      .sort();
  }

  async *listObjects(bucket: string): AsyncGenerator<LiveObject> {
    let token: string | undefined;
    do {
      const page = await this.call(`listing ${bucket}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        yield { key: object.Key!, size: object.Size ?? 0, etag: normalizeEtag(object.ETag) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async getObject(bucket: string, key: string, signal?: AbortSignal): Promise<DownloadedObject> {
    const response = await this.call(`reading ${bucket}/${key}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
    );
    return {
      body: response.Body as Readable,
      size: response.ContentLength ?? 0,
      etag: normalizeEtag(response.ETag),
      contentType: response.ContentType,
      metadata: response.Metadata,
    };
  }

  /** Creates a bucket; one that exists already is fine. */
  async ensureBucket(bucket: string): Promise<'created' | 'existed'> {
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
      return 'created';
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return 'existed';
      throw this.describe(error, `creating bucket ${bucket}`);
    }
  }

  async putBuffer(bucket: string, key: string, body: Buffer, attributes: ObjectAttributes, signal?: AbortSignal): Promise<void> {
    await this.call(`uploading ${bucket}/${key}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: attributes.contentType,
          Metadata: attributes.metadata,
        }),
        { abortSignal: signal },
      ),
    );
  }

  /**
   * Uploads a stream of any chunking in parts of MULTIPART_PART_SIZE. Each part is copied into
   * one of three reused buffers (no concatenation, no growth with the object's size) and is
   * kept until the store has it, so a part that fails is sent again on its own through `retry`.
   */
  async putMultipart(
    bucket: string,
    key: string,
    body: AsyncIterable<Buffer>,
    attributes: ObjectAttributes,
    options: MultipartOptions,
  ): Promise<void> {
    const { signal, retry } = options;
    const request = <T>(doing: string, work: () => Promise<T>) => retry(() => this.call(doing, work));
    const started = await request(`starting the upload of ${bucket}/${key}`, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: attributes.contentType, Metadata: attributes.metadata }),
        { abortSignal: signal },
      ),
    );
    const uploadId = started.UploadId!;
    const parts: CompletedPart[] = [];
    const uploads = new BoundedTasks(MULTIPART_QUEUE, Number.POSITIVE_INFINITY);
    try {
      for await (const part of fixedSizeParts(body, () => this.spareParts.pop() ?? Buffer.allocUnsafe(MULTIPART_PART_SIZE))) {
        const partNumber = parts.length + 1;
        parts.push({ PartNumber: partNumber });
        await uploads.add(0, async () => {
          try {
            const { ETag } = await request(`uploading part ${partNumber} of ${bucket}/${key}`, () =>
              this.client.send(
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
            this.spareParts.push(part.buffer);
          }
        });
      }
      await uploads.drain();
      await request(`completing the upload of ${bucket}/${key}`, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
          {
            abortSignal: signal,
          },
        ),
      );
    } catch (error) {
      await uploads.drain().catch(() => undefined);
      // Leaves no half-uploaded parts behind; if the store is gone, its own expiry removes them.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Server-side copy: no byte passes through this process. CopyObject stops at 5 GiB; a larger
   * object is copied as a multipart upload whose parts are byte ranges of the source.
   */
  async copyObject(fromBucket: string, fromKey: string, toBucket: string, toKey: string, size = 0): Promise<void> {
    const source = `${fromBucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`;
    if (size > COPY_OBJECT_LIMIT) {
      await this.copyInParts(source, toBucket, toKey, size);
      return;
    }
    await this.call(`copying ${fromBucket}/${fromKey} aside`, () =>
      this.client.send(new CopyObjectCommand({ Bucket: toBucket, Key: toKey, CopySource: source, MetadataDirective: 'COPY' })),
    );
  }

  private async copyInParts(source: string, bucket: string, key: string, size: number): Promise<void> {
    const head = await this.call(`reading ${source}`, () =>
      this.client.send(
        new HeadObjectCommand({ Bucket: source.split('/')[0], Key: decodeURIComponent(source.slice(source.indexOf('/') + 1)) }),
      ),
    );
    const created = await this.call(`starting a copy of ${source}`, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: head.ContentType, Metadata: head.Metadata }),
      ),
    );
    const uploadId = created.UploadId!;
    try {
      const parts: CompletedPart[] = [];
      for (const [index, range] of copyRanges(size).entries()) {
        const copied = await this.call(`copying part ${index + 1} of ${source}`, () =>
          this.client.send(
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
      await this.call(`completing the copy of ${source}`, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        ),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  /** An object's size, or undefined when the bucket holds no such key. */
  async objectSize(bucket: string, key: string): Promise<number | undefined> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return response.ContentLength ?? 0;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw this.describe(error, `looking up ${bucket}/${key}`);
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.describe(error, doing);
    }
  }

  private describe(error: unknown, doing: string): Error {
    return describeS3Error(error, doing, this.location.endpoint, RUSTFS_HINTS);
  }
}

export interface MultipartOptions {
  signal?: AbortSignal;
  /** Runs one request again after transient failures (see withRetries). */
  retry: <T>(work: () => Promise<T>) => Promise<T>;
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

export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/** Sends `.`/`..` key segments escaped (see escapeDotSegments), in the build step so the signature covers them. */
export function keepDotSegments(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { path?: unknown };
      if (typeof request.path === 'string') request.path = escapeDotSegments(request.path);
      return next(args);
    },
    { step: 'build', name: 'keepDotSegments' },
  );
}

/**
 * S3 keys may hold `.` and `..` segments (`a/../b` is a key like any other), but a path sent
 * with them is resolved by servers and proxies: `../../other-bucket/owned` would land in another
 * bucket. Escaping the dots of such segments (in the client's build step, before signing, so
 * the signature covers the path as sent) makes the server receive exactly the key.
 */
export function escapeDotSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '.' ? '%2E' : segment === '..' ? '%2E%2E' : segment))
    .join('/');
}

/**
 * Bucket names by S3's rules (3–63 lowercase letters, digits, dots and hyphens, starting and
 * ending with a letter or digit, no `..`, not an IP address): anything else from an archive
 * would be sent as a path of its own (`..` made a `PUT /`).
 */
export function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name)
  );
}
