import type { Readable } from 'node:stream';
import type { ArchiveRecord } from './archiveRecord.js';
import type { ArchiveLocation } from './location.js';

/** The archive's first bytes, known only at the end: manifest.json and the file indexes, as gzip members in a hidden file. */
export interface ArchiveHead {
  readonly size: number;
  open(): Readable;
  /** The manifest's component names, for the record an encrypted archive keeps beside it. */
  readonly components?: readonly string[];
}

/** Reads a finished archive back before it counts as made (the writer's `check`). */
export type ArchiveCheck = (location: ArchiveLocation) => Promise<void>;

/**
 * Where an archive goes: a local file, an S3 object, standard output. The writer hands it the
 * compressed body as it is made, then the head; the destination puts the head in front (the
 * manifest must come first), lets the check read the result, and only then makes it final.
 */
export interface ArchiveDestination {
  /** A private path for a working file of the given role (index spools, spooled command output, the head). */
  workPath(role: string): string;
  writeBody(bytes: Buffer): Promise<void>;
  /**
   * Returns where the archive ended up (a path, a URL or "-") and its size. With a `record` of
   * the bytes it was handed, a destination that can keep one beside the archive publishes it
   * with the archive (both or neither); standard output cannot and ignores it.
   */
  publish(head: ArchiveHead, check?: ArchiveCheck, record?: ArchiveRecord): Promise<{ path: string; bytes: number }>;
  /** Removes everything written so far (parts uploaded, hidden files). Safe to call more than once. */
  discard(): Promise<void>;
}
