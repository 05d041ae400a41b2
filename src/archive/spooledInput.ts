import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ArchiveBytes } from './location.js';
import { PinnedArchive } from './pinned.js';
import { WorkFolder } from './workFolder.js';
import { writeAll } from './writeAll.js';

/**
 * An archive piped in (`verify -`, `inspect -`): a check reads an archive more than once, and a
 * pipe only once, so it is first copied into a private file of the work folder (removed when the
 * archive is closed, or when the run ends).
 */
export async function spoolInput(input: Readable): Promise<ArchiveBytes> {
  const work = await WorkFolder.create();
  try {
    const path = work.file('input');
    const handle = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) await writeAll(handle, chunk);
    } finally {
      await handle.close();
    }
    const pinned = await PinnedArchive.open(path);
    return {
      path: '-',
      size: pinned.size,
      stream: () => pinned.stream(),
      assertUnchanged: () => pinned.assertUnchanged(),
      close: async () => {
        await pinned.close();
        await work.remove();
      },
    };
  } catch (error) {
    await work.remove();
    throw error;
  }
}
