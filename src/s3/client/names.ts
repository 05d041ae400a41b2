import type { S3Client } from '@aws-sdk/client-s3';

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
