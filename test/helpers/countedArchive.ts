import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveBytes } from '../../src/archive/location.js';
import type { ComponentShape } from '../../src/model/shape.js';
import { manifestFor, writeRawArchive } from './archives.js';
import { temporaryFolder } from './tempFolders.js';

/** An archive of one component's files, with or without a shape, read through a location that counts the bytes it gives. */
export async function countedArchive(
  component: string,
  files: { path: string; content: Buffer }[],
  extra: { shape?: ComponentShape; details?: unknown },
): Promise<{ location: ArchiveBytes; manifest: ReturnType<typeof manifestFor>; size: number; read: () => number }> {
  const manifest = manifestFor(files, {
    components: [component],
    ...(extra.details === undefined ? {} : { details: { [component]: extra.details } }),
    ...(extra.shape ? { shape: { components: { [component]: extra.shape } } } : {}),
  });
  const path = join(await temporaryFolder('okb-counted-'), 'archive.tar.gz');
  await writeRawArchive(path, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
  const size = (await stat(path)).size;
  let read = 0;
  const location: ArchiveBytes = {
    path,
    size,
    stream: () => createReadStream(path).on('data', (chunk) => (read += chunk.length)),
    assertUnchanged: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { location, manifest, size, read: () => read };
}
