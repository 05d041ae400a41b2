import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  CreateBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface SeedObject {
  bucket: string;
  key: string;
  body: Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
}

export async function seed(client: S3Client, buckets: string[], objects: SeedObject[]): Promise<void> {
  for (const bucket of buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const object of objects) await putObject(client, object);
}

export async function putObject(client: S3Client, object: SeedObject): Promise<void> {
  const params = { Bucket: object.bucket, Key: object.key, Body: object.body, ContentType: object.contentType, Metadata: object.metadata };
  if (object.body.length > 16 * 1024 * 1024) {
    await new Upload({ client, params, partSize: 5 * 1024 * 1024 }).done();
  } else {
    await client.send(new PutObjectCommand(params));
  }
}

export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export interface StoredObject {
  sha256: string;
  size: number;
  contentType?: string;
  metadata?: Record<string, string>;
}

/** Every object of every bucket: content hash, size, content type and user metadata. */
export async function snapshotStore(client: S3Client): Promise<Record<string, StoredObject>> {
  const result: Record<string, StoredObject> = {};
  const { Buckets } = await client.send(new ListBucketsCommand({}));
  for (const { Name: bucket } of Buckets ?? []) {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const { Key: key } of page.Contents ?? []) {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        result[`${bucket}/${key}`] = {
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: bytes.length,
          contentType: object.ContentType,
          metadata: object.Metadata && Object.keys(object.Metadata).length > 0 ? object.Metadata : undefined,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    result[`${bucket}/`] ??= { sha256: 'bucket', size: 0 };
  }
  return result;
}

export async function headObject(client: S3Client, bucket: string, key: string) {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}
