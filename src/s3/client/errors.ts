import { S3ServiceException } from '@aws-sdk/client-s3';
import { firstLine } from '../../base/format.js';
import { OrkestraError, PreconditionError, RuntimeError, UsageError } from '../../base/errors.js';

/** What an operator should fix when a store cannot be reached or refuses the credentials: the settings of that store. */
export interface StoreHints {
  unreachable: string;
  credentials: string;
  /** The bucket named does not exist (the RustFS component creates its buckets; an off-site one must exist). */
  noSuchBucket?: string;
}

/** The store could not be reached: worth another try after a pause. */
export class StoreUnreachableError extends PreconditionError {}

/** The store answered with a server-side failure (5xx, SlowDown): worth another try after a pause. */
export class StoreServerError extends RuntimeError {}

export function isTransient(error: unknown): boolean {
  return error instanceof StoreUnreachableError || error instanceof StoreServerError;
}

const NETWORK_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN'];
const CREDENTIAL_ERRORS = [
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
];

/** One line naming the store, what was being done and the setting to fix; never a secret (the SDK's messages carry none). */
export function describeS3Error(error: unknown, doing: string, where: string, hints: StoreHints): Error {
  if (error instanceof OrkestraError) return error;
  const name = (error as { name?: string }).name ?? '';
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (NETWORK_CODES.includes(code) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new StoreUnreachableError(`cannot reach the object store at ${where} while ${doing} (${code || name}).`, {
      hint: hints.unreachable,
    });
  }
  if (CREDENTIAL_ERRORS.includes(name) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
    return new PreconditionError(`the object store at ${where} rejected the credentials (${name || '403'}) while ${doing}.`, {
      hint: hints.credentials,
    });
  }
  if (name === 'NoSuchBucket' && hints.noSuchBucket) {
    return new UsageError(`the object store at ${where} has no such bucket (while ${doing}).`, { hint: hints.noSuchBucket });
  }
  if (error instanceof S3ServiceException && (error.$fault === 'server' || name === 'SlowDown')) {
    return new StoreServerError(`the object store at ${where} failed while ${doing}: ${name} ${firstLine(error.message)}`.trim());
  }
  if (error instanceof S3ServiceException) {
    return new RuntimeError(`the object store at ${where} failed while ${doing}: ${name} ${firstLine(error.message)}`.trim());
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RuntimeError(`object store error at ${where} while ${doing}: ${firstLine(message)}`);
}
