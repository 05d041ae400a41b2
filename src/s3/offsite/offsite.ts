import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { UsageError } from '../../base/errors.js';
import { describeS3Error, type StoreHints } from '../client/errors.js';
import { offsiteUrlText, type OffsiteUrl } from './offsiteUrl.js';
import { keepDotSegments } from '../client/names.js';

/** A ranged GET's body and the Content-Range header it came with (undefined on a 200 answer). */
export interface RangedBody {
  readonly body: Readable;
  readonly contentRange?: string;
}

/**
 * The off-site store, configured the way the AWS tools are: credentials from the AWS SDK's
 * default chain (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE in
 * docker/.env), AWS_REGION, and AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL or --endpoint-url for
 * MinIO, RustFS and the like. The RustFS component's keys are never used for it.
 */
export interface OffsiteSettings {
  readonly endpoint?: string;
  readonly region: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly profile?: string;
  /** A request with no answer for this long fails (and is retried as a transient failure). */
  readonly timeoutMs: number;
}

export function offsiteSettings(setting: (key: string) => string | undefined, timeoutMs: number): OffsiteSettings {
  const accessKeyId = setting('AWS_ACCESS_KEY_ID');
  const secretAccessKey = setting('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missing = accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new UsageError(`${missing} is not set, but its partner is.`, {
      hint: 'Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the off-site store (or neither, to use AWS_PROFILE or the default chain).',
    });
  }
  const endpoint = setting('AWS_ENDPOINT_URL_S3') ?? setting('AWS_ENDPOINT_URL');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new UsageError(`the off-site endpoint "${endpoint}" is not an http(s) URL.`, {
      hint: 'Example: --endpoint-url http://minio.example:9000 (or AWS_ENDPOINT_URL_S3).',
    });
  }
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: setting('AWS_REGION') ?? setting('AWS_DEFAULT_REGION') ?? 'us-east-1',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: setting('AWS_SESSION_TOKEN') } : undefined,
    profile: setting('AWS_PROFILE'),
    timeoutMs,
  };
}

const OFFSITE_HINTS: StoreHints = {
  unreachable: 'Check --endpoint-url (or AWS_ENDPOINT_URL_S3) and the network to the off-site store.',
  credentials:
    'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the off-site store, in the environment or docker/.env; the RUSTFS_* keys are not used for it.',
  noSuchBucket: 'Create the bucket first, or correct the bucket in the s3:// URL.',
};

export interface OffsiteObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly modifiedMs: number;
}

/** A store call made again after transient failures (see withRetries); by default, once. */
export type Retry = <T>(work: () => Promise<T>) => Promise<T>;

/** The off-site bucket through @aws-sdk/client-s3: what backups to, restores from, lists and prunes need. */
export class OffsiteStore {
  private readonly client: S3Client;
  readonly where: string;
  /** A request with no answer, or a body with no data, for this long fails. */
  readonly timeoutMs: number;

  constructor(
    settings: OffsiteSettings,
    private readonly retry: Retry = (work) => work(),
  ) {
    const config: S3ClientConfig = {
      region: settings.region,
      endpoint: settings.endpoint,
      // Path-style when an endpoint is given: MinIO and RustFS serve buckets as paths.
      forcePathStyle: settings.endpoint !== undefined,
      credentials: settings.credentials,
      profile: settings.profile,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: settings.timeoutMs, throwOnRequestTimeout: true },
    };
    this.client = new S3Client(config);
    keepDotSegments(this.client);
    this.where = settings.endpoint ?? `AWS S3 (${settings.region})`;
    this.timeoutMs = settings.timeoutMs;
  }

  /** Refuses a bucket that does not exist or is not ours to read, before anything is written. */
  async checkBucket(bucket: string): Promise<void> {
    await this.call(`checking bucket ${bucket}`, () => this.client.send(new HeadBucketCommand({ Bucket: bucket })), {
      notFound: () => {
        throw new UsageError(`the off-site store at ${this.where} has no bucket "${bucket}".`, { hint: OFFSITE_HINTS.noSuchBucket });
      },
    });
  }

  /** The object's size and ETag, or undefined when there is none under that key. */
  async stat(url: OffsiteUrl): Promise<OffsiteObject | undefined> {
    return this.call(
      `reading ${offsiteUrlText(url)}`,
      async () => {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: url.bucket, Key: url.key }));
        return {
          key: url.key,
          size: head.ContentLength ?? 0,
          etag: head.ETag ?? '',
          modifiedMs: head.LastModified?.getTime() ?? 0,
        };
      },
      { notFound: () => undefined },
    );
  }

  /** The objects directly under a folder URL (not in its sub-folders), in key order. */
  async list(folder: OffsiteUrl): Promise<OffsiteObject[]> {
    const objects: OffsiteObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(`listing ${offsiteUrlText(folder)}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.key, Delimiter: '/', ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || object.Key === folder.key) continue;
        objects.push({
          key: object.Key,
          size: object.Size ?? 0,
          etag: object.ETag ?? '',
          modifiedMs: object.LastModified?.getTime() ?? 0,
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** The object's bytes from `start`, only while its ETag is still `etag` (else a PreconditionFailed error). */
  /**
   * The object's bytes from `start`, with the Content-Range the store answered (none when it
   * ignored the range and sent the whole object): the caller checks it before trusting the body.
   */
  async readFrom(url: OffsiteUrl, etag: string, start: number, signal?: AbortSignal): Promise<RangedBody> {
    const response = await this.call(`reading ${offsiteUrlText(url)}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: url.bucket, Key: url.key, IfMatch: etag, Range: `bytes=${start}-` }), {
        abortSignal: signal,
      }),
    );
    return { body: response.Body as Readable, contentRange: response.ContentRange };
  }

  async remove(url: OffsiteUrl): Promise<void> {
    await this.call(`removing ${offsiteUrlText(url)}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: url.bucket, Key: url.key })),
    );
  }

  async startUpload(url: OffsiteUrl, signal?: AbortSignal): Promise<string> {
    const started = await this.call(`starting the upload of ${offsiteUrlText(url)}`, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: url.bucket, Key: url.key, ContentType: 'application/gzip' }), {
        abortSignal: signal,
      }),
    );
    return started.UploadId!;
  }

  async uploadPart(
    url: OffsiteUrl,
    uploadId: string,
    partNumber: number,
    body: () => Buffer | Readable,
    length: number,
    signal?: AbortSignal,
  ): Promise<CompletedPart> {
    const { ETag } = await this.call(`uploading part ${partNumber} of ${offsiteUrlText(url)}`, () =>
      this.client.send(
        new UploadPartCommand({
          Bucket: url.bucket,
          Key: url.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body(),
          ContentLength: length,
        }),
        { abortSignal: signal },
      ),
    );
    return { PartNumber: partNumber, ETag };
  }

  /** Completes the upload only if the key is still free (If-None-Match: *, for stores that honour it); returns the object's ETag. */
  async completeUpload(url: OffsiteUrl, uploadId: string, parts: CompletedPart[], signal?: AbortSignal): Promise<string | undefined> {
    const completed = await this.call(`completing the upload of ${offsiteUrlText(url)}`, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: url.bucket,
          Key: url.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: '*',
        }),
        { abortSignal: signal },
      ),
    );
    return completed.ETag;
  }

  /** A small object in one request (an archive's record), replacing one of that key. */
  async put(url: OffsiteUrl, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    await this.call(`writing ${offsiteUrlText(url)}`, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: url.bucket, Key: url.key, Body: body, ContentLength: body.length, ContentType: contentType }),
        { abortSignal: signal },
      ),
    );
  }

  /** Removes every part uploaded so far; never retried past the SDK's own attempts (it runs while stopping). */
  async abortUpload(url: OffsiteUrl, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: url.bucket, Key: url.key, UploadId: uploadId }));
    } catch (error) {
      throw describeS3Error(error, `aborting the upload ${uploadId} of ${offsiteUrlText(url)}`, this.where, OFFSITE_HINTS);
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(doing: string, work: () => Promise<T>, options: { notFound?: () => T } = {}): Promise<T> {
    return this.retry(async () => {
      try {
        return await work();
      } catch (error) {
        if (options.notFound && isNotFound(error)) return options.notFound();
        throw describeS3Error(error, doing, this.where, OFFSITE_HINTS);
      }
    });
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return (
    name === 'NotFound' ||
    name === 'NoSuchKey' ||
    name === 'NoSuchBucket' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}
