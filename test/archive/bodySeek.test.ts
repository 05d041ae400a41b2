import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodySeeker } from '../../src/archive/bodySeek.js';
import type { Codec } from '../../src/archive/compression.js';
import { archiveIndex, type IndexedFile } from '../../src/archive/fileIndex.js';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { PinnedArchive } from '../../src/archive/pinned.js';
import { readManifest } from '../../src/archive/reader.js';
import { BodyMembers } from '../../src/archive/seekTable.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Files of several codings and sizes, some spanning members, one with a PAX header: what each read from the middle must find whole. */
async function writeArchive(codec: Codec): Promise<{ path: string; contents: Map<string, Buffer> }> {
  const dir = await temporaryFolder('seek-');
  const writer = await ArchiveWriter.open(join(dir, `a.tar.${codec === 'gzip' ? 'gz' : 'zst'}`), {
    compression: { codec, level: codec === 'gzip' ? 6 : 3 },
  });
  const contents = new Map<string, Buffer>();
  const add = async (path: string, bytes: Buffer, compressible?: boolean) => {
    contents.set(path, bytes);
    await writer.addFile(path, bytes.length, Readable.from([bytes]), { compressible });
  };
  await add('mongodb/dump.archive.gz', randomBytes(2 * 1024 * 1024 + 333), false);
  for (let index = 0; index < 300; index += 1) await add(`rustfs/b/small-${index}.txt`, Buffer.from(`object ${index}\n`.repeat(index * 7)));
  await add('rustfs/b/text.txt', Buffer.from('compressible '.repeat(250_000)));
  await add(`rustfs/b/${'long-name-'.repeat(20)}ü.txt`, Buffer.from('pax path'));
  await add('secrets/.env', Buffer.from('A=1\n'));
  const { path } = await writer.commit({
    schema: MANIFEST_SCHEMA,
    createdAt: '2026-12-05T10:00:00Z',
    environment: 'test',
    host: 'h',
    components: ['mongodb', 'rustfs', 'secrets'],
  });
  return { path, contents };
}

async function filesOf(path: string, component: string): Promise<IndexedFile[]> {
  const { manifest } = await readManifest(path);
  const files: IndexedFile[] = [];
  for await (const file of archiveIndex(path, manifest)!.of(component).entries()) files.push(file);
  return files;
}

async function* listed<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe('reading an archive body from the middle', () => {
  it('finds the member for any body offset, and nothing past the body', () => {
    const members = BodyMembers.of({ compressed: [10, 20, 5], uncompressed: [100, 100, 40] }, 1000)!;
    expect(members.pointFor(0)).toEqual({ position: 965, skip: 0 });
    expect(members.pointFor(99)).toEqual({ position: 965, skip: 99 });
    expect(members.pointFor(100)).toEqual({ position: 975, skip: 0 });
    expect(members.pointFor(239)).toEqual({ position: 995, skip: 39 });
    expect(members.pointFor(240)).toBeUndefined();
    expect(members.pointFor(-1)).toBeUndefined();
    expect(BodyMembers.of({ compressed: [10, 20], uncompressed: [100] }, 1000)).toBeUndefined();
    expect(BodyMembers.of({ compressed: [600, 600], uncompressed: [100, 100] }, 1000)).toBeUndefined();
  });

  for (const codec of ['gzip', 'zstd'] as const) {
    it(`${codec}: every file is found where its index puts it, each alone and in runs, whole and with its own bytes`, async () => {
      const { path, contents } = await writeArchive(codec);
      const { manifest } = await readManifest(path);
      expect(manifest.seekTable?.compressed.length).toBeGreaterThan(3);
      const archive = await PinnedArchive.open(path);
      try {
        const seeker = BodySeeker.of(archive, manifest)!;
        expect(await seeker.fits()).toBe(true);
        for (const component of ['mongodb', 'rustfs', 'secrets']) {
          const files = await filesOf(path, component);
          expect(manifest.index![component].at).toBe(files[0].at);
          // Every third file (seeks and reads on), then each file alone.
          const picks = [files.filter((_, index) => index % 3 === 0), ...files.slice(-4).map((file) => [file])];
          for (const pick of picks) {
            const read: string[] = [];
            for await (const entry of seeker.files(component, listed(pick))) {
              const bytes = Buffer.concat(await entry.content.toArray());
              expect(sha256(bytes)).toBe(sha256(contents.get(`${component}/${entry.path}`)!));
              read.push(entry.path);
            }
            expect(read).toEqual(pick.map((file) => file.path));
          }
        }
      } finally {
        await archive.close();
      }
    });
  }

  it('a recompressed archive (same manifest, other members) does not fit its table: readers go from the start', async () => {
    const { path } = await writeArchive('gzip');
    await writeFile(path, gzipSync(gunzipSync(await readFile(path)), { level: 1 }));
    const { manifest } = await readManifest(path);
    const archive = await PinnedArchive.open(path);
    try {
      expect(await BodySeeker.of(archive, manifest)!.fits()).toBe(false);
    } finally {
      await archive.close();
    }
  });

  it('a table whose last member holds more than it says does not fit (refused, not thrown)', async () => {
    const { path } = await writeArchive('gzip');
    const { manifest } = await readManifest(path);
    const last = manifest.seekTable!.uncompressed.length - 1;
    manifest.seekTable!.uncompressed[last] -= 512;
    const archive = await PinnedArchive.open(path);
    try {
      expect(await BodySeeker.of(archive, manifest)!.fits()).toBe(false);
    } finally {
      await archive.close();
    }
  });

  it('a file that is not where its index puts it, or not in the archive, fails the read as a damaged archive', async () => {
    const { path } = await writeArchive('gzip');
    const { manifest } = await readManifest(path);
    const archive = await PinnedArchive.open(path);
    try {
      const seeker = BodySeeker.of(archive, manifest)!;
      expect(await seeker.fits()).toBe(true);
      const [first, second] = await filesOf(path, 'rustfs');
      const reading = async (files: IndexedFile[]) => {
        for await (const entry of seeker.files('rustfs', listed(files))) entry.content.resume();
      };
      await expect(reading([{ ...second, at: first.at }])).rejects.toThrow(`rustfs/${second.path} is not where its index puts it`);
      await expect(reading([{ ...first, path: 'b/absent.txt' }])).rejects.toThrow('rustfs/b/absent.txt is not where its index puts it');
    } finally {
      await archive.close();
    }
  });

  it('damage between two files read in one pass does not fail the read: the second is sought on its own', async () => {
    const dir = await temporaryFolder('seek-damage-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'), { compression: { codec: 'gzip', level: 6 } });
    const blob = randomBytes(2 * 1024 * 1024); // random: stored, so a sample of it is found verbatim
    const files: [string, Buffer][] = [
      ['c/first.txt', Buffer.from('first\n')],
      ['c/between.bin', blob],
      ['c/second.txt', Buffer.from('second\n')],
    ];
    for (const [name, bytes] of files) await writer.addFile(name, bytes.length, Readable.from([bytes]));
    const { path } = await writer.commit({
      schema: MANIFEST_SCHEMA,
      createdAt: '2026-12-05T10:00:00Z',
      environment: 'test',
      host: 'h',
      components: ['c'],
    });
    const bytes = await readFile(path);
    const at = bytes.indexOf(blob.subarray(1024 * 1024, 1024 * 1024 + 64));
    expect(at).toBeGreaterThan(0);
    bytes[at + 10] ^= 0xff;
    await writeFile(path, bytes);
    const { manifest } = await readManifest(path);
    const [first, between, second] = await filesOf(path, 'c');
    const archive = await PinnedArchive.open(path);
    try {
      const seeker = BodySeeker.of(archive, manifest)!;
      expect(await seeker.fits()).toBe(true);
      const read: string[] = [];
      for await (const entry of seeker.files('c', listed([first, second]))) {
        read.push(Buffer.concat(await entry.content.toArray()).toString());
      }
      expect(read).toEqual(['first\n', 'second\n']);
      const all = async () => {
        for await (const entry of seeker.files('c', listed([first, between, second]))) await entry.content.toArray();
      };
      await expect(all()).rejects.toThrow();
    } finally {
      await archive.close();
    }
  });
});
