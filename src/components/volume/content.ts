import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { posix } from 'node:path';
import { list, Parser, type ReadEntry } from 'tar';
import { z } from 'zod';
import { UsageError } from '../../base/errors.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import type { ArchiveEntry } from '../../archive/reader.js';
import { smallFileList } from '../../archive/smallFileList.js';

/** A volume's part of an archive: one tar of the folder, as the Engine API's archive endpoint gives it. */
export const CONTENT_ENTRY = 'content.tar';

export const VolumeDetailsSchema = z.object({
  definition: z.looseObject({ kind: z.literal('volume') }),
  container: z.string(),
  path: z.string(),
});

/** The component's content.tar entry (its other entries skipped unread); each must be read or skipped before the loop goes on. */
export async function* contentEntries(source: ComponentSource): AsyncGenerator<ArchiveEntry> {
  for await (const entry of source.entries()) {
    if (entry.path !== CONTENT_ENTRY) {
      entry.content.resume();
      continue;
    }
    yield entry;
  }
}

/** A regular file of the content tar (what `--files` picks and `--find` lists). */
export function isFile(entry: ReadEntry): boolean {
  return entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
}

/** A path of the content tar inside the folder: `./nested/a.bin` → `nested/a.bin`; the folder itself → ``. */
export function contentPath(path: string): string {
  return posix
    .normalize(path)
    .replace(/^(?:\.\/)+/, '')
    .replace(/\/$/, '')
    .replace(/^\.$/, '');
}

export async function checkContentOnly(source: ComponentSource, name: string): Promise<void> {
  const files = await smallFileList(source, name);
  const other = files.find((file) => file.path !== CONTENT_ENTRY);
  if (other) throw damaged(source, `${name}/${other.path} is not part of a volume backup`);
  if (!files.some((file) => file.path === CONTENT_ENTRY)) throw damaged(source, `${name}/${CONTENT_ENTRY} is missing`);
}

/** Reads the content tar whole: its entries, their bytes, and that no name leaves the folder. */
export async function countContent(source: ComponentSource, name: string): Promise<{ entries: number; bytes: number }> {
  for await (const entry of contentEntries(source)) {
    let entries = 0;
    let bytes = 0;
    let escaping: string | undefined;
    try {
      await list({
        input: entry.content.iterator({ destroyOnReturn: false }),
        strict: true,
        onEntry: (read) => {
          entries += 1;
          bytes += read.size;
          if (read.path.startsWith('/') || read.path.split('/').includes('..')) escaping ??= read.path;
        },
      });
      await finished(entry.content.resume()); // the zeros after the end marker: the entry is read whole, so its checksum is checked
    } catch (error) {
      entry.content.destroy();
      throw unreadableContent(source, name, error);
    }
    if (escaping) throw damaged(source, `${name}/${CONTENT_ENTRY} holds ${JSON.stringify(escaping)}, outside its folder`);
    return { entries, bytes };
  }
  return { entries: 0, bytes: 0 };
}

/** The files of a docker-cp tar and their bytes, counted as it streams by. */
export interface TarTally {
  files: number;
  bytes: number;
  /** The stream was not a tar the parser could follow: the tally is not to be trusted. */
  unreadable: boolean;
}

/**
 * Passes the tar through unchanged while a pull parser counts its regular files: each chunk is
 * parsed before it is passed on, so nothing is held beyond it. A tar it cannot follow is the
 * archive's to judge later; the tally is then marked unreadable.
 */
export function tallyingTar(tally: TarTally): Transform {
  const parser = new Parser();
  const parse = () => {
    for (let event = parser.next(); event; event = parser.next()) {
      if (event.type === 'entry' && (event.entry.type === 'File' || event.entry.type === 'OldFile')) {
        tally.files += 1;
        tally.bytes += event.entry.size;
      }
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!tally.unreadable) {
        try {
          parser.push(chunk);
          parse();
        } catch {
          tally.unreadable = true;
        }
      }
      callback(null, chunk);
    },
  });
}

/** Every entry of a docker-cp tar (`./…`): type, mode, owner, size and content hash; the root's own times left out. */
export async function tarListing(content: Readable): Promise<Map<string, string>> {
  const listing = new Map<string, string>();
  try {
    await list({
      input: content.iterator({ destroyOnReturn: false }),
      onEntry: async (read) => {
        const hash = createHash('sha256');
        for await (const chunk of read.body) hash.update(chunk);
        const when = read.path.replace(/\/$/, '') === '.' ? '' : ` ${Math.floor((read.mtime?.getTime() ?? 0) / 1000)}`;
        listing.set(
          read.path.replace(/\/$/, ''),
          `${read.type} ${(read.mode ?? 0).toString(8)} ${read.uid}:${read.gid} ${read.size}${when} ${hash.digest('hex')}`,
        );
      },
    });
    await finished(content.resume()); // read whole, as above
  } finally {
    content.destroy(); // what a failure left half read
  }
  return listing;
}

export function entriesText(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'entry' : 'entries'}`;
}

/** The content tar could not be followed: the archive is damaged. */
export function unreadableContent(source: ComponentSource, name: string, error: unknown): UsageError {
  return damaged(source, `${name}/${CONTENT_ENTRY} is not a readable tar (${(error as Error).message})`);
}

export function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}
