import { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { withoutFirstBytes } from '../base/asyncSequences.js';
import { UsageError } from '../base/errors.js';
import { decompressed } from './compression.js';
import type { IndexedFile } from './fileIndex.js';
import { locationName, type ArchiveBytes, type ArchiveLocation } from './location.js';
import type { Manifest } from './manifest.js';
import { normalizeEntryPath } from './paths.js';
import type { ArchiveEntry } from './reader.js';
import { BodyMembers } from './seekTable.js';
import { contentReleased, tarEntries, tarStreamEntries } from './tarStream.js';

/**
 * A wanted file that starts at most this far past the end of the previous one is reached by
 * reading on (the files between are passed over) rather than by a new seek: a seek costs up to
 * a member (1 MiB) decompressed before the file anyway.
 */
const READ_ON_BYTES = 4 * 1024 * 1024;

const members = new WeakMap<Manifest, BodyMembers | undefined>();

/**
 * Reads of a plain archive's body that start at a file rather than the first byte: a restore of
 * one component or of a few files decompresses what it reads and little else. An archive
 * without a seek table (made before it existed), an encrypted one and a stream cannot be read
 * this way; `of` gives undefined and the readers go from the start.
 */
export class BodySeeker {
  private constructor(
    private readonly bytes: ArchiveBytes & Required<Pick<ArchiveBytes, 'streamFrom'>>,
    private readonly manifest: Manifest,
    private readonly members: BodyMembers,
  ) {}

  static of(location: ArchiveLocation | undefined, manifest: Manifest): BodySeeker | undefined {
    if (location === undefined || typeof location === 'string' || !location.streamFrom || location.encryption) return undefined;
    if (!manifest.seekTable) return undefined;
    if (!members.has(manifest)) members.set(manifest, BodyMembers.of(manifest.seekTable, location.size));
    const found = members.get(manifest);
    return found && new BodySeeker(location as ArchiveBytes & Required<Pick<ArchiveBytes, 'streamFrom'>>, manifest, found);
  }

  /**
   * The archive's entries from the one `isFirst` accepts, whose header the index puts at body
   * offset `at`. When no such entry is there (the archive was recompressed, which keeps its manifest but not its
   * members), the read starts from the beginning instead and the table is not used again.
   */
  async *entriesFrom(at: number, isFirst: (path: string) => boolean): AsyncGenerator<ReadEntry> {
    const seeked = this.usable ? this.seekedEntries(at) : undefined;
    const opening = await seeked?.next().catch(() => undefined);
    if (seeked && opening && !opening.done && isFile(opening.value, isFirst)) {
      yield opening.value;
      yield* seeked;
      return;
    }
    await seeked?.return(undefined).catch(() => undefined);
    this.misfit();
    yield* tarEntries(this.bytes);
  }

  /** False once a read found the table does not describe these bytes. */
  get usable(): boolean {
    return members.get(this.manifest) !== undefined;
  }

  /** The table does not describe these bytes: every later read goes from the start. */
  private misfit(): void {
    members.set(this.manifest, undefined);
  }

  private seekedEntries(at: number): AsyncGenerator<ReadEntry> {
    const point = this.members.pointFor(at);
    if (!point) throw misplaced(locationName(this.bytes), `an index puts a file at ${at}, past the end of the archive`);
    const raw = this.bytes.streamFrom(point.position);
    const inflated = decompressed(raw);
    const body = Readable.from(withoutFirstBytes(inflated, point.skip), { objectMode: false });
    body.once('close', () => {
      raw.destroy();
      inflated.destroy();
    });
    return tarStreamEntries(body, { compressed: false });
  }

  /**
   * The entries of `files` (one component's, in index order, each with its offset), read from
   * where the index puts them: files close together in one read, the rest each by a seek. A file
   * not found where its index puts it fails the read (the archive is damaged or hostile).
   */
  async *files(component: string, files: AsyncIterable<IndexedFile>): AsyncGenerator<ArchiveEntry & { file: IndexedFile }> {
    const name = locationName(this.bytes);
    let reader: AsyncGenerator<ReadEntry> | undefined;
    let end = 0;
    try {
      for await (const file of files) {
        const at = file.at;
        if (at === undefined) throw misplaced(name, `${component}/${file.path} has no offset in its index`);
        const path = `${component}/${file.path}`;
        if (!reader || (this.usable && (at < end || at - end > READ_ON_BYTES))) {
          await reader?.return(undefined);
          reader = this.entriesFrom(at, (found) => found === path);
          end = at;
        }
        // Read from the start (the table did not fit), the files come in index order with any others between.
        const gap = at - end;
        const entry = await this.reachFile(reader, path, () => (this.usable ? gap : Infinity), name);
        const content = Readable.fromWeb(entry.body);
        try {
          yield { file, path: file.path, size: entry.size, content };
        } finally {
          await contentReleased(content);
        }
        end = at + 512 + Math.ceil(entry.size / 512) * 512;
      }
    } finally {
      await reader?.return(undefined);
    }
  }

  /** The next entry named `wanted`, passing over at most `gap()` bytes of other files (plus their headers). */
  private async reachFile(reader: AsyncGenerator<ReadEntry>, wanted: string, gap: () => number, name: string): Promise<ReadEntry> {
    let passed = 0;
    for (;;) {
      const next = await reader.next();
      if (next.done) break;
      const entry = next.value;
      if (isFile(entry, (path) => path === wanted)) return entry;
      passed += 512 + Math.ceil(entry.size / 512) * 512;
      if (passed > gap() + 64 * 1024) break;
    }
    throw misplaced(name, `${wanted} is not where its index puts it`);
  }
}

function isFile(entry: ReadEntry, accepts: (path: string) => boolean): boolean {
  const normalized = normalizeEntryPath(entry.path);
  return 'path' in normalized && accepts(normalized.path) && (entry.type === 'File' || entry.type === 'OldFile');
}

function misplaced(name: string, problem: string): UsageError {
  return new UsageError(`${name}: ${problem}.`, { hint: 'The archive is damaged or hostile; nothing was touched.' });
}
