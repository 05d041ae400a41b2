import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StagingArea } from '../../src/core/stagedSwap.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const BUILT = fileURLToPath(new URL('../../dist/core/stagedSwap.js', import.meta.url));
/** Root may remove anything: the permission cases run the built module as nobody (uid 65534) when the tests run as root. */
const NOT_ROOT: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/**
 * Runs `body` (an async function body with `StagingArea`, `fs` and `join` in scope and `root` its
 * folder) in a node process that is not root; prints what it returns as JSON.
 */
async function asNonRoot(root: string, body: string): Promise<unknown> {
  if (NOT_ROOT.uid !== undefined) await chown(root, NOT_ROOT.uid, NOT_ROOT.gid ?? NOT_ROOT.uid);
  const script = `
    import { StagingArea } from ${JSON.stringify(BUILT)};
    import * as fs from 'node:fs/promises';
    import { join } from 'node:path';
    const root = process.argv[1];
    const result = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify(result));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, root], { ...NOT_ROOT, cwd: root });
  return JSON.parse(stdout);
}

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

  it('a staged folder restored 0555 does not hide why the swap failed: it is removed and the message still says the previous content was put back (not root)', async () => {
    const root = await temporaryFolder('orkestra-swap-');
    const outcome = await asNonRoot(
      root,
      `
      for (const name of ['a', 'b']) {
        await fs.mkdir(join(root, name));
        await fs.writeFile(join(root, name, 'file.txt'), 'old ' + name);
      }
      const staging = new StagingArea();
      const items = [];
      for (const name of ['a', 'b']) {
        const target = join(root, name);
        const staged = await staging.folderBeside(target);
        await fs.mkdir(join(staged, 'inner'));
        await fs.writeFile(join(staged, 'inner', 'file.txt'), 'new ' + name);
        await fs.chmod(join(staged, 'inner'), 0o555);
        await fs.chmod(staged, 0o555);
        items.push({ target, staged, keep: async () => (await fs.rename(target, join(root, 'kept-' + name)), join(root, 'kept-' + name)) });
      }
      items[1].keep = () => Promise.reject(new Error('EXDEV: cross-device link not permitted'));
      const message = await staging.swapIn('test swap', items).then(() => 'no error', (error) => error.message);
      return { message, left: (await fs.readdir(root)).sort(), a: await fs.readFile(join(root, 'a', 'file.txt'), 'utf8') };
      `,
    );
    expect(outcome).toEqual({
      message: `swapping the restored copy in failed: EXDEV: cross-device link not permitted — the previous content was put back (${join(root, 'a')}).`,
      left: ['a', 'b'],
      a: 'old a',
    });
  });

  it('a staged copy that cannot be removed does not hide the failure that stopped the writing: the message keeps it and says where the copy is (not root)', async () => {
    const root = await temporaryFolder('orkestra-swap-');
    const outcome = (await asNonRoot(
      root,
      `
      await fs.mkdir(join(root, 'shared'));
      const staging = new StagingArea();
      const staged = await staging.folderBeside(join(root, 'shared', 'target'));
      await fs.writeFile(join(staged, 'file.txt'), 'partial');
      await fs.chmod(join(root, 'shared'), 0o555);
      const error = await staging.abandon(new Error('ENOSPC: no space left on device'), false, 'the restored copy beside target', 'no folder was replaced');
      await fs.chmod(join(root, 'shared'), 0o755);
      return { message: error.message, staged };
      `,
    )) as { message: string; staged: string };
    expect(outcome.message).toMatch(
      /^ENOSPC: no space left on device while writing the restored copy beside target — no folder was replaced \(the partial copies could not all be removed: /,
    );
    expect(outcome.message).toContain(`${outcome.staged} (EACCES`);
  });

  it('a staged folder replaced by a link to another folder is refused before anything is written through it', async () => {
    const root = await temporaryFolder('orkestra-swap-');
    const elsewhere = await temporaryFolder('orkestra-elsewhere-');
    const staging = new StagingArea();
    const staged = await staging.folderBeside(join(root, 'target'));
    await staging.checkFolder(staged);
    await rm(staged, { recursive: true });
    await symlink(elsewhere, staged);
    await expect(staging.checkFolder(staged)).rejects.toThrow(
      `${staged}, the folder this restore was writing into, was replaced by something else`,
    );
  });

  it("staged copies are named with the pid of their run; those of a gone run are removed when the next one stages beside the same target, a live run's are left", async () => {
    const root = await temporaryFolder('orkestra-swap-');
    const gone = join(root, '.target.orkestra-restore-999999999-0123abcd');
    const live = join(root, `.target.orkestra-restore-${process.pid}-0123abcd`);
    await writeFile(gone, 'SECRET=left by a killed restore');
    await writeFile(live, 'SECRET=being written by a live restore');
    const staged = await new StagingArea().beside(join(root, 'target'));
    expect(staged).toMatch(new RegExp(`/\\.target\\.orkestra-restore-${process.pid}-[0-9a-f]{8}$`));
    expect((await readdir(root)).sort()).toEqual([live.slice(root.length + 1)]);
  });
});
