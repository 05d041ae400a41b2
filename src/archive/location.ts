import type { Readable } from 'node:stream';

/**
 * An archive's bytes as every reader sees them, wherever they live: a local file pinned by one
 * descriptor (`PinnedArchive`) or an object in an S3 bucket pinned by its ETag (`RemoteArchive`).
 * Each `stream()` starts again at the first byte; a check, the plans and the restore each read
 * through it, and `assertUnchanged` tells whether what they read is still what is there.
 */
export interface ArchiveBytes {
  /** A local path or an `s3://bucket/key` URL: what messages show. */
  readonly path: string;
  /** The archive's size in bytes when it was opened (inside its encryption, when it is encrypted). */
  readonly size: number;
  /** How the file is encrypted (`age, to 1 X25519 recipient`), when it is. */
  readonly encryption?: string;
  stream(): Readable;
  /** The bytes from `position` on, for archives that can be read from the middle (not an encrypted one). */
  streamFrom?(position: number): Readable;
  /** Refuses (a usage error, nothing touched) when the archive was replaced or changed since it was opened. */
  assertUnchanged(): Promise<void>;
  close(): Promise<void>;
}

/** Where an archive's bytes come from: a local path opened anew each time, or opened bytes. */
export type ArchiveLocation = string | ArchiveBytes;

export function locationPath(location: ArchiveLocation): string {
  return typeof location === 'string' ? location : location.path;
}

/** The last segment of a path or URL: what a message calls the archive. */
export function locationName(location: ArchiveLocation): string {
  const path = locationPath(location).replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}
