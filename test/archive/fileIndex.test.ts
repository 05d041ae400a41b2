import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { archiveIndex } from '../../src/archive/fileIndex.js';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { checkArchive, readManifest } from '../../src/archive/reader.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { readTarBytes, writeTarBytes } from '../helpers/archives.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

async function writeArchive(files: Record<string, string>, details?: (path: string) => Record<string, unknown>): Promise<string> {
  const writer = await ArchiveWriter.open(join(await temporaryFolder('index-'), 'a.tar.gz'));
  for (const [path, text] of Object.entries(files)) {
    await writer.addFile(path, Buffer.byteLength(text), Readable.from([Buffer.from(text)]), { details: details && (() => details(path)) });
  }
  const components = [...new Set(Object.keys(files).map((path) => path.split('/')[0]))];
  const { path } = await writer.commit({
    schema: MANIFEST_SCHEMA,
    createdAt: '2026-11-30T00:00:00Z',
    environment: 't',
    host: 'h',
    components,
  });
  return path;
}

async function entriesOf(file: string, component: string) {
  const { manifest } = await readManifest(file);
  const files = [];
  for await (const entry of archiveIndex(file, manifest)!.of(component).entries()) files.push(entry);
  return files;
}

/** Replaces bytes of the uncompressed tar (same length), as damage or an attacker would. */
async function tamper(file: string, from: string, to: string): Promise<void> {
  const tar = await readTarBytes(file);
  const at = tar.indexOf(from);
  expect(at).toBeGreaterThan(-1);
  tar.write(to, at);
  await writeTarBytes(file, tar);
}

describe('per-component file indexes', () => {
  it('list each file with its size, SHA-256 and the details the component gave, in archive order', async () => {
    const file = await writeArchive({ 'rustfs/b/k1': 'one', 'rustfs/b/k2': 'two!', 'secrets/.env': 'A=1\n' }, (path) => ({ key: path }));
    const rustfs = await entriesOf(file, 'rustfs');
    expect(rustfs.map(({ path, size, details }) => ({ path, size, details }))).toEqual([
      { path: 'b/k1', size: 3, details: { key: 'rustfs/b/k1' } },
      { path: 'b/k2', size: 4, details: { key: 'rustfs/b/k2' } },
    ]);
    expect(rustfs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const { manifest } = await readManifest(file);
    expect(manifest.index).toMatchObject({ rustfs: { files: 2, bytes: 7 }, secrets: { files: 1, bytes: 4 } });
    expect((await checkArchive(file, manifest)).problems).toEqual([]);
  });

  it('an index changed after the backup fails its checksum in the check, and stops whoever streams it', async () => {
    const file = await writeArchive({ 'secrets/.env': 'A=1\n', 'secrets/keys/k': 'key' });
    await tamper(file, '"size":3', '"size":4');
    const { manifest } = await readManifest(file);
    const { problems } = await checkArchive(file, manifest);
    expect(problems).toContain('index/secrets.jsonl fails its SHA-256 checksum');
    expect(problems).toContain('secrets/keys/k is 3 bytes, the manifest says 4');
    await expect(entriesOf(file, 'secrets')).rejects.toThrow('index/secrets.jsonl does not match its summary in manifest.json');
  });

  it('an index line naming a path outside its component is refused as it is read', async () => {
    const file = await writeArchive({ 'secrets/ab/cd': 'x' });
    await tamper(file, '"path":"ab/cd"', '"path":"../cd"');
    await expect(entriesOf(file, 'secrets')).rejects.toThrow('line 1 has the unsafe path "../cd"');
  });

  it('a manifest without the index of a component it lists is refused', async () => {
    const file = await writeArchive({ 'secrets/.env': 'A=1\n' });
    await tamper(file, '"index": {\n    "secrets"', '"index": {\n    "secreta"');
    await expect(readManifest(file)).rejects.toThrow(/indexes "secreta", which it does not list as a component/);
  });
});
