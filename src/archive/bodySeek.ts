import { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { withoutFirstBytes } from '../base/asyncSequences.js';
import { OrkestraError, UsageError } from '../base/errors.js';
import { firstBytes } from '../base/firstBytes.js';
import { codecOf, decompressed, singleFrame } from './compression.js';
import type { IndexedFile } from './fileIndex.js';
import { locationName, type ArchiveBytes, type ArchiveLocation } from './location.js';
import type { Manifest } from './manifest.js';
import { normalizeEntryPath } from './paths.js';
import type { ArchiveEntry } from './reader.js';
import { BodyMembers } from './seekTable.js';
import { contentReleased, tarStreamEntries } from './tarStream.js';

/**
 * A wanted file that starts at most this far past the end of the previous one is reached by
 * reading on (the files between are passed over) rather than by a new seek: a seek costs up to
 * a member (1 MiB) decompressed before the file anyway.
 */
const READ_ON_BYTES = 4 * 1024 * 1024;
/** The largest member the table may declare for the fit test to read: ours are 1 MiB of tar. */
const MAX_MEMBER_BYTES = 16 * 1024 * 1024;

interface Resolved {
  readonly members: BodyMembers;
  /** Whether the table describes these bytes: settled once per opened archive, before any read from the middle. */
  fits?: Promise<boolean>;
}
const resolved = new WeakMap<Manifest, Resolved | undefined>();

type SeekableBytes = ArchiveBytes & Required<Pick<ArchiveBytes, 'streamFrom'>>;

/**
 * Reads of a plain archive's body that start at a file rather than the first byte: a restore of
 * one component or of a few files decompresses what it reads and little else. An archive
 * without a seek table (made before it existed), an encrypted one and a stream cannot be read
 * this way: `of` gives undefined. A table that does not describe the bytes (the archive was
 * recompressed: same manifest, other members) is found before the first read from the middle
 * (`fits`), and the readers go from the start instead.
 */
export class BodySeeker {
  private constructor(
    private readonly bytes: SeekableBytes,
    private readonly table: Resolved,
  ) {}

  static of(location: ArchiveLocation | undefined, manifest: Manifest): BodySeeker | undefined {
    if (location === undefined || typeof location === 'string' || !location.streamFrom || location.encryption) return undefined;
    if (!manifest.seekTable) return undefined;
    if (!resolved.has(manifest)) {
      const members = BodyMembers.of(manifest.seekTable, location.size);
      resolved.set(manifest, members && { members });
    }
    const table = resolved.get(manifest);
    return table && new BodySeeker(location as SeekableBytes, table);
  }

  /**
   * Whether the table describes these bytes: the body's first and last members are where it
   * puts them and hold what it says. Asked once per archive, by whichever reader comes first.
   */
  fits(): Promise<boolean> {
    const fits = (member: number) => this.memberFits(member).catch(() => false); // not a member where the table says
    this.table.fits ??= fits(0).then(async (first) => first && (await fits(this.table.members.count - 1)));
    return this.table.fits;
  }

  /**
   * The entries of `files` (one component's, in index order, each with its offset), read from
   * where the index puts them: files close together in one read, the rest each by a seek. A file
   * not found where its index puts it fails the read (the archive is damaged or hostile). Only
   * for an archive the table `fits`.
   */
  async *files(component: string, files: AsyncIterable<IndexedFile>): AsyncGenerator<ArchiveEntry & { file: IndexedFile }> {
    const name = locationName(this.bytes);
    let reader: AsyncGenerator<ReadEntry> | undefined;
    let end = 0;
    try {
      for await (const file of files) {
        const at = file.at;
        const path = `${component}/${file.path}`;
        if (at === undefined) throw misplaced(name, `${path} has no offset in its index`);
        let entry: ReadEntry | undefined;
        if (reader && at >= end && at - end <= READ_ON_BYTES) {
          // Read on, the file may follow others. Damage in what lies between, which the restore
          // does not need, is no reason to fail: the file is then sought on its own.
          entry = await reachFile(reader, path, at - end + 64 * 1024, name).catch((error: unknown) => {
            // A read that failed on the way (the store unreachable, a body that stalled) is no damage to seek past.
            if (error instanceof OrkestraError && !(error instanceof UsageError)) throw error;
            return undefined;
          });
        }
        if (!entry) {
          await reader?.return(undefined);
          reader = this.entriesAt(at);
          // After a seek the file must be the first entry there.
          entry = await reachFile(reader, path, 0, name);
        }
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

  /** The archive's entries from the one whose header starts at body offset `at`. */
  private entriesAt(at: number): AsyncGenerator<ReadEntry> {
    const point = this.table.members.pointFor(at);
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

  private async memberFits(member: number): Promise<boolean> {
    const { position, compressed, uncompressed } = this.table.members.member(member);
    if (compressed > MAX_MEMBER_BYTES || uncompressed > MAX_MEMBER_BYTES) return false;
    const bytes = await firstBytes(this.bytes.streamFrom(position), compressed);
    const codec = codecOf(bytes);
    if (bytes.length !== compressed || !codec) return false;
    return singleFrame(bytes, codec, uncompressed + 1).length === uncompressed;
  }
}

/** The next entry named `wanted`, passing over at most `gap` bytes of other entries (headers and content). */
async function reachFile(reader: AsyncGenerator<ReadEntry>, wanted: string, gap: number, name: string): Promise<ReadEntry> {
  let passed = 0;
  for (;;) {
    const next = await reader.next();
    if (next.done) break;
    const entry = next.value;
    const normalized = normalizeEntryPath(entry.path);
    if ('path' in normalized && normalized.path === wanted && (entry.type === 'File' || entry.type === 'OldFile')) return entry;
    passed += 512 + Math.ceil(entry.size / 512) * 512;
    if (passed > gap) break;
  }
  throw misplaced(name, `${wanted} is not where its index puts it`);
}

function misplaced(name: string, problem: string): UsageError {
  return new UsageError(`${name}: ${problem}.`, { hint: 'The archive is damaged or hostile.' });
}
