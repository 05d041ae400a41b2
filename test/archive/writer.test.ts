import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA, type Manifest } from '../../src/archive/manifest.js';
import { checkArchive, componentEntries, readManifest } from '../../src/archive/reader.js';
import { ArchiveWriter } from '../../src/archive/writer.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

function manifestOf(writer: ArchiveWriter, components: string[]): Manifest {
  return {
    schema: MANIFEST_SCHEMA,
    createdAt: '2026-11-22T10:00:00Z',
    environment: 'test',
    host: 'h',
    components,
    files: [...writer.files],
  };
}

describe('archive writer and reader', () => {
  it('writes manifest.json first, mode 0600, readable by tar and gunzip, with correct checksums', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    const random = randomBytes(3 * 1024 * 1024 + 17); // several gzip members, stored (incompressible)
    const text = Buffer.from('compressible '.repeat(200_000));
    await writer.addFile('rustfs/bucket/random.bin', random.length, Readable.from([random]), { compressible: false });
    await writer.addFile('rustfs/bucket/text.txt', text.length, Readable.from([text]));
    await writer.addStream('mongodb/mongo.archive.gz', Readable.from([Buffer.from('streamed '), Buffer.from('output')]));
    await writer.addText(`rustfs/bucket/${'long-name-'.repeat(20)}ü.txt`, 'pax path');
    const path = await writer.commit(manifestOf(writer, ['rustfs', 'mongodb']));

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const listing = execFileSync('tar', ['tzf', path], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toBe('manifest.json');
    expect(listing).toContain(`rustfs/bucket/${'long-name-'.repeat(20)}ü.txt`);
    execFileSync('gunzip', ['-t', path]);
    expect(gunzipSync(readFileSync(path)).length % 512).toBe(0);

    const { manifest, manifestFirst } = await readManifest(path);
    expect(manifestFirst).toBe(true);
    const check = await checkArchive(path, manifest);
    expect(check.problems).toEqual([]);
    expect(check.files.map((file) => file.path)).toEqual(manifest.files!.map((file) => file.path));
    // Only the final archive is left: body, spool and partial files are gone.
    expect(await readdir(dir)).toEqual(['a.tar.gz']);

    const contents: Record<string, string> = {};
    for await (const entry of componentEntries(path, 'mongodb')) {
      contents[entry.path] = Buffer.concat(await entry.content.toArray()).toString();
    }
    expect(contents).toEqual({ 'mongo.archive.gz': 'streamed output' });
  });

  it('stores incompressible data instead of deflating it again', async () => {
    const dir = await temporaryFolder('writer-');
    const random = randomBytes(4 * 1024 * 1024);
    const sizes: number[] = [];
    for (const compressible of [true, false]) {
      const writer = await ArchiveWriter.open(join(dir, `${compressible}.tar.gz`));
      await writer.addFile('rustfs/b/x', random.length, Readable.from([random]), { compressible });
      const path = await writer.commit(manifestOf(writer, ['rustfs']));
      sizes.push((await stat(path)).size);
    }
    // Stored blocks add ~5 bytes per 64 KiB; deflate of random data is never smaller either.
    expect(sizes[1]).toBeLessThan(random.length * 1.001 + 4096);
    expect(Math.abs(sizes[0] - sizes[1])).toBeLessThan(random.length * 0.01);
  });

  it('refuses content longer or shorter than announced and leaves nothing behind', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    await expect(writer.addFile('secrets/.env', 3, Readable.from([Buffer.from('four')]))).rejects.toThrow(/grew/);
    await expect(writer.addFile('secrets/.env', 9, Readable.from([Buffer.from('four')]))).rejects.toThrow(/ended after 4 of 9/);
    await writer.discard();
    expect(await readdir(dir)).toEqual([]);
  });

  it('never overwrites an existing archive; a default name gets a -2 suffix instead', async () => {
    const dir = await temporaryFolder('writer-');
    const paths: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      const writer = await ArchiveWriter.open(join(dir, 'same.tar.gz'), { uniqueName: true });
      await writer.addText('secrets/.env', `run ${index}`);
      paths.push(await writer.commit(manifestOf(writer, ['secrets'])));
    }
    expect(paths).toEqual([join(dir, 'same.tar.gz'), join(dir, 'same-2.tar.gz')]);
    const writer = await ArchiveWriter.open(join(dir, 'same.tar.gz'));
    await writer.addText('secrets/.env', 'third');
    await expect(writer.commit(manifestOf(writer, ['secrets']))).rejects.toThrow(/already exists/);
    expect((await readdir(dir)).sort()).toEqual(['same-2.tar.gz', 'same.tar.gz']);
  });

  it('a failed read-back check keeps no archive', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    await writer.addText('secrets/.env', 'x');
    await expect(
      writer.commit(manifestOf(writer, ['secrets']), async () => {
        throw new Error('read-back failed');
      }),
    ).rejects.toThrow(/read-back failed/);
    expect(await readdir(dir)).toEqual([]);
  });
});
