import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArchiveLocation } from '../archive/location.js';
import { UsageError } from '../base/errors.js';
import type { ReadEntry } from 'tar';
import type { ArchiveIndex, IndexedFile } from '../archive/fileIndex.js';
import type { Manifest } from '../archive/manifest.js';
import { componentEntries, type ArchiveEntry } from '../archive/reader.js';
import { BodySeeker } from '../archive/bodySeek.js';
import { filterItems } from '../base/asyncSequences.js';
import { componentOf, normalizeEntryPath, pathInComponent } from '../archive/paths.js';
import { contentReleased, tarEntries } from '../archive/tarStream.js';
import type { Component } from './component.js';
import type { ComponentSource } from '../archive/componentSource.js';

/** The largest small text file of a component (a name, a layout, an AOF manifest) read whole. */
const MAX_TEXT_BYTES = 1 << 20;

/** An archive as the components see it: its manifest and the files it was found to hold. */
export interface ArchiveView {
  readonly file: string;
  /** Where the bytes are read from: the restore's pinned descriptor, else the path. */
  readonly location?: ArchiveLocation;
  readonly name: string;
  readonly manifest: Manifest;
  readonly index: ArchiveIndex;
  /** No checksums were recorded (archives of the original bash scripts). */
  readonly legacy: boolean;
  /**
   * False: read each component from the archive's start, as the whole check read it. Otherwise,
   * when the archive's seek table fits, each file is read from where its index puts it.
   */
  readonly readsFromOffsets?: boolean;
}

/**
 * One component's files of an archive, read on demand in archive order. With a shared
 * `SequentialReader`, components restored one after the other read the archive in one pass
 * instead of each decompressing it from the start.
 */
export function sourceFor(archive: ArchiveView, component: Component, reader?: SequentialReader): ComponentSource {
  const index = archive.index.of(component.name);
  const location = archive.location ?? archive.file;
  const seeker =
    archive.readsFromOffsets === false || index.at === undefined ? undefined : BodySeeker.of(archive.location, archive.manifest);
  const fromOffsets = async () => seeker !== undefined && (await seeker.fits());
  const listed = (wanted: (file: IndexedFile) => boolean) => filterItems(index.entries(), wanted);
  return {
    archiveName: archive.name,
    fileCount: index.files,
    files: () => index.entries(),
    details: archive.manifest.details?.[component.name],
    async *entries(wanted) {
      // Each file from where its index puts it: the bytes a check by offsets hashed, and nothing else.
      if (await fromOffsets()) {
        yield* checksummed(seeker!.files(component.name, listed(wanted ?? (() => true))));
        return;
      }
      const all = verified(
        reader ? reader.entries(component.name) : componentEntries(location, component.name, index.files),
        index.entries(),
      );
      // An entry left unread is passed over by the reader: its content starts only when read.
      yield* wanted ? filterItems(all, (entry) => wanted(entry.file)) : all;
    },
    async readText(path) {
      const entries = (await fromOffsets())
        ? checksummed(
            seeker!.files(
              component.name,
              listed((file) => file.path === path),
            ),
          )
        : componentEntries(location, component.name, index.files);
      for await (const entry of entries) {
        if (entry.path !== path) continue;
        // Small text files only (database.txt, redis-layout.txt): a huge one is refused unread.
        if (entry.size > MAX_TEXT_BYTES) {
          throw new UsageError(`${archive.name}: ${component.name}/${path} is ${entry.size} bytes, not a small text file.`, {
            hint: 'The archive is damaged or hostile; nothing was touched.',
          });
        }
        return Buffer.concat((await entry.content.toArray()) as Buffer[]).toString('utf8');
      }
      return undefined;
    },
  };
}

/**
 * Every byte a component restores is hashed as it passes: content that differs from the
 * checked archive (changed underneath, or read back wrong) fails the entry at its end, before
 * the component commits it (a staged file is renamed, a container's copy completes) only after
 * reading it whole. The index streams beside the entries: both are in archive order.
 */
async function* verified(
  entries: AsyncIterable<ArchiveEntry>,
  files: AsyncIterable<IndexedFile>,
): AsyncGenerator<ArchiveEntry & { file: IndexedFile }> {
  const expected = files[Symbol.asyncIterator]();
  try {
    for await (const entry of entries) {
      const next = await expected.next();
      if (next.done || next.value.path !== entry.path) {
        throw new UsageError(`${entry.path} in the archive is not where the checked index put it; it was not restored.`);
      }
      const { sha256 } = next.value;
      const content = sha256 ? new ChecksummedContent(entry.content, entry.path, sha256) : entry.content;
      try {
        yield { ...entry, content, file: next.value };
      } finally {
        await contentReleased(content); // the source cannot see this wrapper: resumed to skip it, it pulls from the next tick
      }
    }
    const unread = await expected.next();
    if (!unread.done)
      throw new UsageError(`${unread.value.path} is in the checked index but was not found in the archive; it was not restored.`);
  } finally {
    await expected.return?.();
  }
}

/** Entries read where their index records put them, each hashed against its record as `verified` does. */
async function* checksummed(entries: AsyncIterable<ArchiveEntry & { file: IndexedFile }>): AsyncGenerator<ArchiveEntry> {
  for await (const { file, path, size, content: raw } of entries) {
    const content = file.sha256 ? new ChecksummedContent(raw, path, file.sha256) : raw;
    try {
      yield { path, size, content };
    } finally {
      await contentReleased(content);
    }
  }
}

/**
 * The entry's content, hashed as it is read. It starts reading its source only when read
 * itself: an entry a component skips is left untouched, for the archive reader to drain.
 */
class ChecksummedContent extends Readable {
  private readonly hash = createHash('sha256');
  private pulling: AsyncIterator<Buffer> | undefined;

  constructor(
    private readonly source: Readable,
    private readonly path: string,
    private readonly sha256: string,
  ) {
    super();
  }

  override _read(): void {
    this.pulling ??= this.source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.pulling.next().then(
      ({ done, value }) => {
        if (!done) {
          this.hash.update(value);
          this.push(value);
        } else if (this.hash.digest('hex') === this.sha256) {
          this.push(null);
        } else {
          this.destroy(new UsageError(`${this.path} read during the restore differs from the checked archive; it was not restored.`));
        }
      },
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.pulling) this.source.destroy();
    callback(error);
  }
}

/** A file entry of the archive with the component it belongs to. */
interface ArchiveFile {
  entry: ReadEntry;
  component: string | undefined;
  path: string;
}

/**
 * Reads an archive once for components that ask for their entries in the order their files
 * appear (which is how backup writes them): each picks up where the previous one stopped. A
 * component asking out of order gets a fresh pass, so the result is always correct.
 */
export class SequentialReader {
  private iterator: AsyncGenerator<ReadEntry> | undefined;
  private held: ArchiveFile | undefined;
  /** Components whose entries this pass has already gone through (or past). */
  private readonly passed = new Set<string>();
  private readonly order: readonly string[];

  constructor(private readonly archive: ArchiveView) {
    this.order = archive.index.order;
  }

  /** Our own archives hold each component's files together, in one order (the check refuses them otherwise); legacy ones may not. */
  static fits(archive: ArchiveView): boolean {
    return !archive.legacy;
  }

  async *entries(component: string): AsyncGenerator<ArchiveEntry> {
    const wanted = this.order.indexOf(component);
    if (!this.iterator || this.passed.has(component)) this.restart();
    for (const name of this.order.slice(0, wanted + 1)) this.passed.add(name);
    for (;;) {
      const next = this.held ?? (await this.read());
      this.held = undefined;
      if (!next) return;
      if (next.component === component) {
        const content = Readable.fromWeb(next.entry.body);
        try {
          yield { path: pathInComponent(next.path), size: next.entry.size, content };
        } finally {
          await contentReleased(content);
        }
        continue;
      }
      if (next.component !== undefined && this.order.indexOf(next.component) > wanted) {
        this.held = next; // the next component's first file: leave it for that component
        return;
      }
      // an earlier component's file that nobody asked for: the reader skips it
    }
  }

  async close(): Promise<void> {
    await this.iterator?.return(undefined);
    this.iterator = undefined;
  }

  private restart(): void {
    void this.iterator?.return(undefined);
    this.iterator = tarEntries(this.archive.location ?? this.archive.file);
    this.held = undefined;
    this.passed.clear();
  }

  private async read(): Promise<ArchiveFile | undefined> {
    for (;;) {
      const next = await this.iterator!.next();
      if (next.done) return undefined;
      const entry = next.value;
      const normalized = normalizeEntryPath(entry.path);
      if ((entry.type !== 'File' && entry.type !== 'OldFile') || !('path' in normalized)) continue;
      return { entry, component: componentOf(normalized.path), path: normalized.path };
    }
  }
}
