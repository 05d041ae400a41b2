import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { SequentialReader, type ArchiveView } from '../../src/core/archiveSource.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

async function archive(): Promise<ArchiveView> {
  const dir = await temporaryFolder('sequential-');
  const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
  for (const path of ['mongodb/x', 'mongodb/y', 'redis/dump.rdb', 'rustfs/b/k', 'secrets/.env'])
    await writer.addText(path, `content of ${path}`);
  const manifest = {
    schema: MANIFEST_SCHEMA,
    createdAt: '2026-11-22T00:00:00Z',
    environment: 't',
    host: 'h',
    components: ['mongodb', 'redis', 'rustfs', 'secrets'],
    files: [...writer.files],
  };
  const file = await writer.commit(manifest);
  return { file, name: 'a.tar.gz', manifest, files: manifest.files, legacy: false };
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

  it('is used only for archives whose components are not interleaved', async () => {
    const view = await archive();
    expect(SequentialReader.fits(view)).toBe(true);
    const files = [view.files[0], view.files[2], view.files[1]];
    expect(SequentialReader.fits({ ...view, files })).toBe(false);
    expect(SequentialReader.fits({ ...view, legacy: true })).toBe(false);
  });
});
