import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import type { ArchiveBytes } from '../../src/archive/location.js';
import { AbortedError } from '../../src/base/errors.js';
import { archivedComponent, COMPONENTS } from '../../src/components/index.js';
import { browseArchive, type BrowseRequest } from '../../src/core/browse.js';
import { openArchiveReference } from '../../src/core/offsite.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const openDescriptors = () => readdirSync('/proc/self/fd').length;

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}

/** An archive with a volume of `count` files of 4 KiB of random bytes (they do not compress). */
async function volumeArchive(count: number): Promise<string> {
  const blocks: Uint8Array[] = [];
  for (let index = 0; index < count; index += 1) {
    const header = new Header({ path: `./files/${index}.bin`, type: 'File', size: 4_096, mode: 0o644 });
    header.encode();
    blocks.push(header.block!, randomBytes(4_096));
  }
  const files = [{ path: 'graph/content.tar', content: Buffer.concat([...blocks, Buffer.alloc(1_024)]) }];
  const details = { graph: { definition: { kind: 'volume', container: 'c', path: '/data' }, container: 'c', path: '/data' } };
  const path = join(await temporaryFolder('okb-browse-release-'), 'archive.tar.gz');
  await writeRawArchive(path, [
    { path: 'manifest.json', content: JSON.stringify(manifestFor(files, { components: ['graph'], details })) },
    ...files,
  ]);
  return path;
}

describe('a page read cancelled in the picker (Esc)', () => {
  it('lets go of the archive: the read stops well before the end and no descriptor stays open', async () => {
    const path = await volumeArchive(8_000);
    const size = (await stat(path)).size;
    const before = openDescriptors();
    const options = { components: COMPONENTS, fromArchive: archivedComponent, setting: () => undefined };
    // As the TUI's backend reads a page: the archive opened, the page read, the archive closed.
    const pinned = await openArchiveReference(path, () => {
      throw new Error('no off-site store');
    });
    let read = 0;
    const location: ArchiveBytes = {
      path: pinned.path,
      size: pinned.size,
      stream: () => pinned.stream().on('data', (chunk: Buffer) => (read += chunk.length)),
      assertUnchanged: () => pinned.assertUnchanged(),
      close: () => pinned.close(),
    };
    const controller = new AbortController();
    const request: BrowseRequest = { component: 'graph', group: 'c:/data', filter: 'no-such-file', offset: 0, pageSize: 50 };
    const page = browseArchive(location, request, options, controller.signal).finally(() => location.close());
    expect(await until(() => read > size / 20, 10_000)).toBe(true);
    controller.abort(new AbortedError('reading cancelled by the operator'));
    await expect(page).rejects.toThrow('reading cancelled');
    expect(await until(() => openDescriptors() <= before, 5_000)).toBe(true);
    const stopped = read;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a read still running would go on meanwhile
    expect(read - stopped).toBeLessThanOrEqual(1 << 20); // at most the read in flight when the archive closed
    expect(read).toBeLessThan(size / 2);
  });
});
