import { UsageError } from '../../base/errors.js';
import { isValidBucketName } from '../client/names.js';

/** `s3://bucket/prefix/` (a folder) or `s3://bucket/key.tar.gz` (one archive). */
export interface OffsiteUrl {
  readonly bucket: string;
  /** The key of an archive, or the prefix of a folder ('' or ending in '/'). */
  readonly key: string;
  readonly folder: boolean;
}

export function isOffsiteUrl(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

export function parseOffsiteUrl(text: string): OffsiteUrl {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(text);
  const bucket = match?.[1] ?? '';
  if (bucket === '') {
    throw new UsageError(`${text} names no bucket.`, { hint: 'Write s3://<bucket>/<prefix>/ or s3://<bucket>/<name>.tar.gz.' });
  }
  if (!isValidBucketName(bucket)) {
    throw new UsageError(`${text}: "${bucket}" is not a valid S3 bucket name.`, {
      hint: 'Bucket names are 3-63 lowercase letters, digits, dots and hyphens.',
    });
  }
  const key = match?.[2] ?? '';
  if (key.split('/').some((segment, index, all) => segment === '' && index < all.length - 1)) {
    throw new UsageError(`${text} has an empty path segment ("//").`, { hint: 'Write s3://<bucket>/<prefix>/ with single slashes.' });
  }
  return { bucket, key, folder: key === '' || key.endsWith('/') };
}

/** A URL taken as a folder: `s3://bucket/prefix` means `s3://bucket/prefix/` (list, prune, ORKESTRA_OFFSITE). */
export function parseOffsiteFolder(text: string): OffsiteUrl {
  const parsed = parseOffsiteUrl(text);
  return parsed.folder ? parsed : { ...parsed, key: `${parsed.key}/`, folder: true };
}

export function offsiteUrlText(url: { bucket: string; key: string }): string {
  return `s3://${url.bucket}/${url.key}`;
}

/** An archive's URL inside a folder URL. */
export function offsiteChild(folder: OffsiteUrl, name: string): OffsiteUrl {
  return { bucket: folder.bucket, key: `${folder.key}${name}`, folder: false };
}
