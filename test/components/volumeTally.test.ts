import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { tallyingTar, type TarTally } from '../../src/components/volume/content.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

describe("a volume's files counted as its tar streams into the archive", () => {
  it('counts regular files and their bytes, passes every byte through', async () => {
    const dir = await temporaryFolder('okb-volume-tally-');
    await mkdir(join(dir, 'data/sub'), { recursive: true });
    await writeFile(join(dir, 'data/a.txt'), 'a'.repeat(1000));
    await writeFile(join(dir, 'data/sub/b.bin'), Buffer.alloc(70_000, 7));
    await writeFile(join(dir, 'data/empty'), '');
    const tally: TarTally = { files: 0, bytes: 0, unreadable: false };
    let passed = 0;
    await pipeline(
      create({ cwd: join(dir, 'data') }, ['.']),
      tallyingTar(tally),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          passed += chunk.length;
          callback();
        },
      }),
    );
    expect(tally).toEqual({ files: 3, bytes: 71_000, unreadable: false });
    expect(passed).toBeGreaterThan(71_000);
  });
});
