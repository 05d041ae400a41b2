import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { z } from 'zod';
import { UsageError } from '../../base/errors.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import { smallFileList } from '../../archive/smallFileList.js';

/** A volume's part of an archive: one tar of the folder, as the Engine API's archive endpoint gives it. */
export const CONTENT_ENTRY = 'content.tar';

export const VolumeDetailsSchema = z.object({
  definition: z.looseObject({ kind: z.literal('volume') }),
  container: z.string(),
  path: z.string(),
});

export async function checkContentOnly(source: ComponentSource, name: string): Promise<void> {
  const files = await smallFileList(source, name);
  const other = files.find((file) => file.path !== CONTENT_ENTRY);
  if (other) throw damaged(source, `${name}/${other.path} is not part of a volume backup`);
  if (!files.some((file) => file.path === CONTENT_ENTRY)) throw damaged(source, `${name}/${CONTENT_ENTRY} is missing`);
}

/** Reads the content tar whole: its entries, their bytes, and that no name leaves the folder. */
export async function countContent(source: ComponentSource, name: string): Promise<{ entries: number; bytes: number }> {
  for await (const entry of source.entries()) {
    if (entry.path !== CONTENT_ENTRY) {
      entry.content.resume();
      continue;
    }
    let entries = 0;
    let bytes = 0;
    let escaping: string | undefined;
    const parser = new Parser({
      strict: true,
      onReadEntry: (read: ReadEntry) => {
        entries += 1;
        bytes += read.size ?? 0;
        if (read.path.startsWith('/') || read.path.split('/').includes('..')) escaping ??= read.path;
        read.resume();
      },
    });
    try {
      await pipeline(entry.content, parser);
    } catch (error) {
      throw damaged(source, `${name}/${CONTENT_ENTRY} is not a readable tar (${(error as Error).message})`);
    }
    if (escaping) throw damaged(source, `${name}/${CONTENT_ENTRY} holds ${JSON.stringify(escaping)}, outside its folder`);
    return { entries, bytes };
  }
  return { entries: 0, bytes: 0 };
}

/** Every entry of a docker-cp tar (`./…`): type, mode, owner, size and content hash; the root's own times left out. */
export async function tarListing(content: AsyncIterable<Buffer> | NodeJS.ReadableStream): Promise<Map<string, string>> {
  const listing = new Map<string, string>();
  const parser = new Parser({
    onReadEntry: (read: ReadEntry) => {
      const hash = createHash('sha256');
      read.on('data', (chunk: Buffer) => hash.update(chunk));
      read.on('end', () => {
        const when = read.path.replace(/\/$/, '') === '.' ? '' : ` ${Math.floor((read.mtime?.getTime() ?? 0) / 1000)}`;
        listing.set(
          read.path.replace(/\/$/, ''),
          `${read.type} ${(read.mode ?? 0).toString(8)} ${read.uid}:${read.gid} ${read.size}${when} ${hash.digest('hex')}`,
        );
      });
    },
  });
  await pipeline(content as AsyncIterable<Buffer>, parser);
  return listing;
}

export function entriesText(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'entry' : 'entries'}`;
}

export function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}
