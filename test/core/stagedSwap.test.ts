import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StagingArea } from '../../src/core/stagedSwap.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/** Two folders restored together on real files: a failure halfway through the swap puts the first back. */
async function twoTargets() {
  const root = await temporaryFolder('orkestra-swap-');
  const kept = join(root, 'kept');
  await mkdir(kept);
  for (const name of ['a', 'b']) {
    await mkdir(join(root, name));
    await writeFile(join(root, name, 'file.txt'), `old ${name}`);
  }
  const staging = new StagingArea();
  const items = [];
  for (const name of ['a', 'b']) {
    const target = join(root, name);
    const staged = await staging.beside(target);
    await mkdir(staged);
    await writeFile(join(staged, 'file.txt'), `new ${name}`);
    items.push({ target, staged, keep: async () => (await rename(target, join(kept, name)), join(kept, name)) });
  }
  return { root, kept, staging, items };
}

const contentOf = (root: string, name: string) => readFile(join(root, name, 'file.txt'), 'utf8');

describe('StagingArea', () => {
  it('swaps every staged folder in, the previous ones kept', async () => {
    const { root, kept, staging, items } = await twoTargets();
    const swapped = await staging.swapIn('test swap', items);
    expect(swapped).toEqual([
      { target: join(root, 'a'), kept: join(kept, 'a') },
      { target: join(root, 'b'), kept: join(kept, 'b') },
    ]);
    expect([await contentOf(root, 'a'), await contentOf(root, 'b')]).toEqual(['new a', 'new b']);
    expect([await contentOf(kept, 'a'), await contentOf(kept, 'b')]).toEqual(['old a', 'old b']);
    expect((await readdir(root)).sort()).toEqual(['a', 'b', 'kept']);
  });

  it('a failure after the first folder was swapped puts it back: both folders end as they were, no staged copy left', async () => {
    const { root, staging, items } = await twoTargets();
    const failing = [items[0], { ...items[1], keep: () => Promise.reject(new Error('EXDEV: cross-device link not permitted')) }];
    await expect(staging.swapIn('test swap', failing)).rejects.toThrow(
      `swapping the restored copy in failed: EXDEV: cross-device link not permitted — the previous content was put back (${join(root, 'a')}).`,
    );
    expect([await contentOf(root, 'a'), await contentOf(root, 'b')]).toEqual(['old a', 'old b']);
    expect((await readdir(root)).sort()).toEqual(['a', 'b', 'kept']);
  });

  it('discard removes the staged copies and the folders made for them; the targets are untouched', async () => {
    const root = await temporaryFolder('orkestra-swap-');
    const staging = new StagingArea();
    const staged = await staging.beside(join(root, 'new/deeper/target'));
    await writeFile(staged, 'partial');
    await staging.discard();
    expect(await readdir(root)).toEqual([]);
  });
});
