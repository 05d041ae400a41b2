import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { describeS3Error, type StoreHints } from './errors.js';
import { copyInParts, uploadInParts, type MultipartOptions, type MultipartTarget } from './multipart.js';
import { keepDotSegments } from './names.js';

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
/** The largest object one CopyObject can copy. */
const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;

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

  /** The bucket's objects in key order; only those whose key starts with `prefix` when one is given. */
  async *listObjects(bucket: string, prefix = ''): AsyncGenerator<LiveObject> {
    let token: string | undefined;
    do {
      const page = await this.call(`listing ${bucket}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token })),
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

  /** Uploads a stream in parts (see uploadInParts), reusing the part buffers of earlier uploads. */
  async putMultipart(
    bucket: string,
    key: string,
    body: AsyncIterable<Buffer>,
    attributes: ObjectAttributes,
    options: MultipartOptions,
  ): Promise<void> {
    const headers = { ContentType: attributes.contentType, Metadata: attributes.metadata };
    await uploadInParts(this.target(bucket, key), body, headers, options, this.spareParts);
  }

  /**
   * Server-side copy: no byte passes through this process. CopyObject stops at 5 GiB; a larger
   * object is copied as a multipart upload whose parts are byte ranges of the source.
   */
  async copyObject(fromBucket: string, fromKey: string, toBucket: string, toKey: string, size = 0): Promise<void> {
    const source = `${fromBucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`;
    if (size > COPY_OBJECT_LIMIT) {
      await copyInParts(this.target(toBucket, toKey), source, size);
      return;
    }
    await this.call(`copying ${fromBucket}/${fromKey} aside`, () =>
      this.client.send(new CopyObjectCommand({ Bucket: toBucket, Key: toKey, CopySource: source, MetadataDirective: 'COPY' })),
    );
  }

  /** Deletes an object; a key the bucket does not hold is fine. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.call(`deleting ${bucket}/${key}`, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
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

  private target(bucket: string, key: string): MultipartTarget {
    return { client: this.client, call: (doing, work) => this.call(doing, work), bucket, key };
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

export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}
