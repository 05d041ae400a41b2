import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { BoundedTasks } from '../core/concurrency.js';
import { OrkestraError, PreconditionError, RuntimeError } from '../core/errors.js';

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
  }

  async listBuckets(): Promise<string[]> {
    const response = await this.call('listing buckets', () => this.client.send(new ListBucketsCommand({})));
    return (response.Buckets ?? []).map((bucket) => bucket.Name!).filter(Boolean).sort();
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
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: attributes.contentType, Metadata: attributes.metadata }),
        { abortSignal: signal },
      ),
    );
  }

  /**
   * Uploads a stream of any chunking in parts of MULTIPART_PART_SIZE. Each part is copied into
   * one of three reused buffers (no concatenation, no growth with the object's size) and is
   * kept until the store has it, so a part that fails is sent again on its own through `retry`.
   */
  async putMultipart(bucket: string, key: string, body: AsyncIterable<Buffer>, attributes: ObjectAttributes, options: MultipartOptions): Promise<void> {
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
                new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: part.bytes, ContentLength: part.bytes.length }),
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
        this.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), {
          abortSignal: signal,
        }),
      );
    } catch (error) {
      await uploads.drain().catch(() => undefined);
      // Leaves no half-uploaded parts behind; if the store is gone, its own expiry removes them.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  /** Server-side copy: no byte passes through this process. */
  async copyObject(fromBucket: string, fromKey: string, toBucket: string, toKey: string): Promise<void> {
    await this.call(`copying ${fromBucket}/${fromKey} aside`, () =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: toBucket,
          Key: toKey,
          CopySource: `${fromBucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
        }),
      ),
    );
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
    if (error instanceof OrkestraError) return error;
    const where = this.location.endpoint;
    const name = (error as { name?: string }).name ?? '';
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(code) || name === 'TimeoutError') {
      return new StoreUnreachableError(`cannot reach the object store at ${where} while ${doing} (${code || name}).`, {
        hint: 'Check that the rustfs container runs, or set RUSTFS_ENDPOINT.',
      });
    }
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken'].includes(name)) {
      return new PreconditionError(`the object store at ${where} rejected the credentials (${name}) while ${doing}.`, {
        hint: 'Set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY in docker/.env.',
      });
    }
    if (error instanceof S3ServiceException && (error.$fault === 'server' || name === 'SlowDown')) {
      return new StoreServerError(`the object store at ${where} failed while ${doing}: ${name} ${error.message}`.trim());
    }
    if (error instanceof S3ServiceException) {
      return new RuntimeError(`the object store at ${where} failed while ${doing}: ${name} ${error.message}`.trim());
    }
    const message = error instanceof Error ? error.message : String(error);
    return new RuntimeError(`object store error at ${where} while ${doing}: ${message.split('\n')[0]}`);
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

/** The store could not be reached: worth another try after a pause. */
export class StoreUnreachableError extends PreconditionError {}

/** The store answered with a server-side failure (5xx, SlowDown): worth another try after a pause. */
export class StoreServerError extends RuntimeError {}

export function isTransient(error: unknown): boolean {
  return error instanceof StoreUnreachableError || error instanceof StoreServerError;
}

export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}
