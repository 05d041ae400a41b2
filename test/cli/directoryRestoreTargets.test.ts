import { chmod, lstat, mkdir, open, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { withEditedManifest } from '../helpers/directoryArchives.js';
import { makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/** Where a directory component's archive may write: the project's declaration decides, never the archive. */
const CONFIG = { components: { spool: { kind: 'directory', path: 'docker/spool-*' } } };
const UNSAFE_BITS = 0o7002;

/** A project whose declared spool folder is 07777 holding a 04777 file, backed up; the archive's path. */
async function backedUpSpool(): Promise<{ project: string; archive: string }> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
  const spool = join(project, 'docker/spool-a');
  await mkdir(join(spool, 'inner'), { recursive: true });
  await writeFile(join(spool, 'inner/run.sh'), '#!/bin/sh\nid\n');
  await writeFile(join(spool, 'note.txt'), 'hello\n');
  await chmod(join(spool, 'inner/run.sh'), 0o4777);
  await chmod(join(spool, 'note.txt'), 0o2666);
  await chmod(join(spool, 'inner'), 0o7777);
  await chmod(spool, 0o7777);
  const backup = await runCli(['backup', '-c', 'spool', '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  return { project, archive: backup.stdout.trim() };
}

/** The same archive with its folder recorded as a host folder outside the project. */
async function aimedAt(archive: string, hostFolder: string): Promise<string> {
  return withEditedManifest(archive, `${archive}.crafted.tar.gz`, (manifest) => {
    manifest.details.spool.roots[0].path = hostFolder;
  });
}

async function unsafeModes(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if ((info.mode & UNSAFE_BITS) !== 0) found.push(`${path} ${(info.mode & 0o7777).toString(8)}`);
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(folder);
  return found;
}

describe('directory targets come from the project, not the archive', () => {
  it('a declared component whose archive names a host folder outside the project is refused (exit 2) in the dry run and the restore; nothing is written there', async () => {
    const { project, archive } = await backedUpSpool();
    const host = await temporaryFolder('orkestra-host-');
    const crafted = await aimedAt(archive, join(host, 'victim'));
    const before = await snapshotTree(project);
    for (const args of [['--dry-run'], ['-y']]) {
      const result = await runCli(['restore', crafted, ...args], { cwd: project });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `spool holds the folder ${join(host, 'victim')}, which this project's declaration (docker/spool-*) does not match`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await readdir(host)).toEqual([]);
    expect(await snapshotTree(project)).toEqual(before);
  });

  it('restored folders and files never keep setuid, setgid, sticky or world-write bits (archive modes 07777 / 04777)', async () => {
    const { project, archive } = await backedUpSpool();
    await rm(join(project, 'docker/spool-a'), { recursive: true });
    const restore = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect((await stat(join(project, 'docker/spool-a/inner/run.sh'))).mode & 0o7777).toBe(0o775);
    expect((await stat(join(project, 'docker/spool-a/inner'))).mode & 0o7777).toBe(0o775);
    expect(await unsafeModes(join(project, 'docker/spool-a'))).toEqual([]);
  });

  it('an undeclared component named with -c: every target is named in full, one outside the project needs --allow-outside-project, a new one is said to be created', async () => {
    const { project, archive } = await backedUpSpool();
    const host = await temporaryFolder('orkestra-host-');
    const victim = join(host, 'victim');
    const crafted = await aimedAt(archive, victim);
    await rm(join(project, 'orkestra-backup.json'));

    const refused = await runCli(['restore', crafted, '-c', 'spool', '--dry-run'], { cwd: project });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`would write outside the project folder`);
    expect(refused.stderr).toContain(victim);
    expect(refused.stderr).toContain('--allow-outside-project');
    const refusedRestore = await runCli(['restore', crafted, '-c', 'spool', '-y'], { cwd: project });
    expect(refusedRestore.code).toBe(2);
    expect(await readdir(host)).toEqual([]);

    const dryRun = await runCli(['restore', crafted, '-c', 'spool', '--dry-run', '--allow-outside-project'], { cwd: project });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`${victim} (2 files, 19 B): does not exist yet; it will be created`);
    expect(dryRun.stdout).toContain(`${victim} is outside the project folder (allowed by --allow-outside-project)`);
    const json = await runCli(['restore', crafted, '-c', 'spool', '--dry-run', '--json', '--allow-outside-project'], { cwd: project });
    expect(JSON.parse(json.stdout).components[0].replaces).toEqual([`${victim} (does not exist yet: created)`]);

    const restore = await runCli(['restore', crafted, '-c', 'spool', '-y', '--allow-outside-project'], { cwd: project });
    expect(restore.code).toBe(0);
    expect((await readdir(victim)).sort()).toEqual(['inner', 'note.txt']);
    expect(await unsafeModes(victim)).toEqual([]);
  });

  it.each([
    ['docker', "the project's docker/ folder"],
    ['the project', 'the project folder itself'],
  ])('an archive folder naming %s is refused in the dry run (exit 2)', async (folder, reason) => {
    const { project, archive } = await backedUpSpool();
    const crafted = await withEditedManifest(archive, `${archive}.crafted.tar.gz`, (manifest) => {
      manifest.details.spool.roots[0].path = folder === 'the project' ? project : folder;
    });
    await rm(join(project, 'orkestra-backup.json'));
    const dryRun = await runCli(['restore', crafted, '-c', 'spool', '--dry-run', '--allow-outside-project'], { cwd: project });
    expect(dryRun.code).toBe(2);
    expect(dryRun.stderr).toContain(reason);
  });

  it(
    'a staged folder swapped for a link while the restore writes (a container sharing the folder) is refused: nothing is written through the link, the folder is as it was',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      await writeFile(
        join(project, 'orkestra-backup.json'),
        JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
      );
      const spool = join(project, 'docker/spool');
      await mkdir(spool);
      const big = await open(join(spool, 'a-big.bin'), 'w');
      for (let block = 0; block < 160; block += 1) await big.write(Buffer.alloc(1024 * 1024, block));
      await big.close();
      await writeFile(join(spool, 'b-after.txt'), 'written after the big file\n');
      const backup = await runCli(['backup', '-c', 'spool', '-y'], { cwd: project });
      expect(backup.code).toBe(0);
      await rm(join(spool, 'a-big.bin'));
      const before = await snapshotTree(spool);
      const victim = await temporaryFolder('orkestra-victim-');

      const running = startCli(['restore', backup.stdout.trim(), '-y'], { cwd: project });
      const staged = await vi.waitFor(
        async () => {
          const name = (await readdir(join(project, 'docker'))).find((entry) => entry.startsWith('.spool.orkestra-restore-'));
          if (name === undefined) throw new Error('the staged folder is not there yet');
          return join(project, 'docker', name);
        },
        { timeout: 120_000, interval: 2 },
      );
      await rename(staged, join(project, 'docker/swapped-out'));
      await symlink(victim, staged);
      const result = await running.result;

      expect(await readdir(victim)).toEqual([]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`${staged}, the folder this restore was writing into, was replaced by something else`);
      expect(result.stderr).toContain('no folder was replaced: each is as it was');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await snapshotTree(spool)).toEqual(before);
    },
  );
});
