import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { archiveIndex } from '../../src/archive/fileIndex.js';
import { checkArchive, readManifest } from '../../src/archive/reader.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { SequentialReader, type ArchiveView } from '../../src/core/archiveSource.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

async function archive(): Promise<ArchiveView> {
  const dir = await temporaryFolder('sequential-');
  const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
  for (const path of ['mongodb/x', 'mongodb/y', 'redis/dump.rdb', 'rustfs/b/k', 'secrets/.env'])
    await writer.addText(path, `content of ${path}`);
  const { path: file, manifest } = await writer.commit({
    schema: MANIFEST_SCHEMA,
    createdAt: '2026-11-22T00:00:00Z',
    environment: 't',
    host: 'h',
    components: ['mongodb', 'redis', 'rustfs', 'secrets'],
  });
  return { file, name: 'a.tar.gz', manifest, index: archiveIndex(file, manifest)!, legacy: false };
}

async function read(reader: SequentialReader, component: string): Promise<string[]> {
  const seen: string[] = [];
  for await (const entry of reader.entries(component))
    seen.push(`${entry.path}=${Buffer.concat(await entry.content.toArray()).toString()}`);
  return seen;
}

describe('one pass over the archive for components restored in order', () => {
  it('each component gets exactly its files, in order, also when one is skipped or asked for twice', async () => {
    const view = await archive();
    const reader = new SequentialReader(view);
    expect(await read(reader, 'mongodb')).toEqual(['x=content of mongodb/x', 'y=content of mongodb/y']);
    expect(await read(reader, 'rustfs')).toEqual(['b/k=content of rustfs/b/k']); // redis skipped
    expect(await read(reader, 'rustfs')).toEqual(['b/k=content of rustfs/b/k']); // again: a new pass
    expect(await read(reader, 'redis')).toEqual(['dump.rdb=content of redis/dump.rdb']); // earlier: a new pass
    expect(await read(reader, 'secrets')).toEqual(['.env=content of secrets/.env']);
    await reader.close();
  });

  it('a component that stops reading early leaves the next one its files', async () => {
    const view = await archive();
    const reader = new SequentialReader(view);
    for await (const entry of reader.entries('mongodb')) {
      expect(entry.path).toBe('x');
      break;
    }
    expect(await read(reader, 'redis')).toEqual(['dump.rdb=content of redis/dump.rdb']);
    await reader.close();
  });

  it('is used for checked archives of ours, not for legacy ones (whose components may be interleaved)', async () => {
    const view = await archive();
    expect(SequentialReader.fits(view)).toBe(true);
    expect(SequentialReader.fits({ ...view, legacy: true })).toBe(false);
  });

  it('the check refuses an archive whose components are interleaved, so one pass can rely on the order', async () => {
    const dir = await temporaryFolder('interleaved-');
    const files = ['secrets/a', 'redis/dump.rdb', 'secrets/b'].map((path) => ({ path, content: `content of ${path}` }));
    const file = join(dir, 'x.tar.gz');
    const manifest = manifestFor(files, { components: ['secrets', 'redis'] });
    await writeRawArchive(file, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
    const { problems } = await checkArchive(file, (await readManifest(file)).manifest);
    expect(problems).toEqual(['secrets/b is out of place: the files of secrets are not together']);
  });
});
