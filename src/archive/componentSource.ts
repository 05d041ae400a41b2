import type { IndexedFile } from './fileIndex.js';
import type { ArchiveEntry } from './reader.js';

/** A component's files in the archive being restored. */
export interface ComponentSource {
  readonly archiveName: string;
  /** How many files the component has in the archive. */
  readonly fileCount: number;
  /**
   * The files, streamed in archive order (a million objects are never listed in memory): paths
   * inside the component's folder, sizes always, SHA-256 when recorded, and what `AddOptions.details`
   * recorded for each file at backup time.
   */
  files(): AsyncIterable<IndexedFile>;
  /** What the component recorded in the manifest at backup time; undefined for legacy archives. */
  readonly details: unknown;
  /**
   * The files in archive order; each must be consumed or skipped before the next arrives. With
   * `wanted`, only the files it accepts: on an archive that can be read from the middle, the
   * others are not even decompressed.
   */
  entries(wanted?: (file: IndexedFile) => boolean): AsyncIterable<ArchiveEntry>;
  /** A small text file of the component (`database.txt`), or undefined when absent. */
  readText(path: string): Promise<string | undefined>;
}
