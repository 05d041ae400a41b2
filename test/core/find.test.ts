import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import type { ArchiveBytes } from '../../src/archive/location.js';
import { archivedComponent, COMPONENTS } from '../../src/components/index.js';
import { findInArchive } from '../../src/core/find.js';
import { nameMatcher } from '../../src/base/globMatch.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const MONGO_DUMP = readFileSync(fileURLToPath(new URL('../fixtures/mongodump/test.bar.archive', import.meta.url)));
const RDB = readFileSync(fileURLToPath(new URL('../fixtures/redis-7.0-one-key.rdb', import.meta.url)));
const BIG = 4 * 1024 * 1024;

/** The archive's bytes, counting what every reader of it reads. */
async function countedArchive(path: string): Promise<{ location: ArchiveBytes; read: () => number }> {
  let read = 0;
  const location: ArchiveBytes = {
    path,
    size: (await stat(path)).size,
    stream: () => createReadStream(path).on('data', (chunk) => (read += chunk.length)),
    assertUnchanged: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { location, read: () => read };
}

function tarOf(files: Record<string, string>): Buffer {
  const blocks: Uint8Array[] = [];
  for (const [path, text] of Object.entries(files)) {
    const content = Buffer.from(text);
    const header = new Header({ path, type: 'File', size: content.length, mode: 0o644, mtime: new Date(0) });
    header.encode();
    blocks.push(header.block!, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

describe('findInArchive', () => {
  it('reads the archive once for every component that reads its files, whatever order the manifest lists them in; keeps only --limit matches', async () => {
    const files = [
      // Incompressible and first: a pass per component would read it again for each of the three after it.
      { path: 'rustfs/big/blob.bin', content: randomBytes(BIG) },
      { path: 'mongodb/database.txt', content: 'test\n' },
      { path: 'mongodb/mongo.archive.gz', content: gzipSync(MONGO_DUMP) },
      { path: 'redis/dump.rdb', content: RDB },
      { path: 'graph/content.tar', content: tarOf({ './a.txt': 'a', './b.txt': 'bb' }) },
    ];
    const details = {
      rustfs: { buckets: [{ name: 'big', objects: [{ key: 'blob.bin', path: 'blob.bin', size: BIG }] }] },
      graph: { definition: { kind: 'volume', container: 'c', path: '/data' }, container: 'c', path: '/data' },
    };
    const manifest = manifestFor(files, { components: ['graph', 'redis', 'mongodb', 'rustfs'], details });
    const path = join(await temporaryFolder('okb-find-'), 'archive.tar.gz');
    await writeRawArchive(path, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
    const { location, read } = await countedArchive(path);

    const search = await findInArchive(location, {
      components: COMPONENTS,
      fromArchive: archivedComponent,
      setting: () => undefined,
      onEvent: () => undefined,
      matches: nameMatcher('*'),
      limit: 3,
    });

    expect(search.problems).toEqual([]);
    expect(Object.fromEntries(search.components.map(({ name, matches }) => [name, matches]))).toEqual({
      rustfs: 1,
      mongodb: 2, // test.bar and admin.system.version
      redis: 1,
      graph: 2,
    });
    expect(search.total).toBe(6);
    expect(search.shown.map((match) => match.component)).toEqual(['rustfs', 'mongodb', 'mongodb']);
    // The manifest's first chunk, then one pass: well under the twice the file a second pass would take.
    expect(read()).toBeGreaterThan(location.size);
    expect(read()).toBeLessThan(1.5 * location.size);
  });
});
