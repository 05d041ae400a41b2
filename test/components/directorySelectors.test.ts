import { chmod, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/** A directory component matching two folders (so --files paths start with the folder as recorded), backed up, then edited. */
async function editedSpools(): Promise<{ project: string; archive: string; original: Record<string, string> }> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components: { spool: { kind: 'directory', path: 'spool-*' } } }));
  await mkdir(join(project, 'spool-a/sub'), { recursive: true });
  await mkdir(join(project, 'spool-b'));
  await writeFile(join(project, 'spool-a/one.txt'), 'one\n');
  await writeFile(join(project, 'spool-a/sub/two.json'), '{"two":2}\n');
  await writeFile(join(project, 'spool-b/three.json'), '{"three":3}\n');
  await chmod(join(project, 'spool-a/sub'), 0o750);
  await utimes(join(project, 'spool-a/sub'), SUB_MTIME, SUB_MTIME);
  const original = await snapshotTree(join(project, 'spool-a'));
  const backup = await runCli(['backup', '-c', 'spool', '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  await writeFile(join(project, 'spool-a/one.txt'), 'edited\n');
  await rm(join(project, 'spool-a/sub'), { recursive: true });
  await writeFile(join(project, 'spool-b/three.json'), '{"edited":true}\n');
  await writeFile(join(project, 'spool-b/new.txt'), 'not in the backup\n');
  return { project, archive: backup.stdout.trim(), original };
}

const SUB_MTIME = new Date('2026-03-04T05:06:07Z');

const spools = async (project: string) => ({
  a: await snapshotTree(join(project, 'spool-a')),
  b: await snapshotTree(join(project, 'spool-b')),
});

describe('restore --files / --into of a directory component through the binary', () => {
  it('--files restores only the matched files in place (a folder it makes gets its mode and mtime back), keeps the replaced ones aside, and leaves every other file identical', async () => {
    const { project, archive, original } = await editedSpools();
    const before = await spools(project);
    const selectors = ['--files', 'spool-a/one.txt', '--files', 'spool-a/**/*.json'];
    const dryRun = await runCli(['restore', archive, ...selectors, '--dry-run'], { cwd: project });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('--files spool-a/one.txt: 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical');
    expect(dryRun.stdout).toContain('--files spool-a/**/*.json: 1 file in the archive: 1 to add, 0 to overwrite (different), 0 identical');
    expect(await spools(project)).toEqual(before);

    const result = await runCli(['restore', archive, ...selectors, '-y'], { cwd: project });
    expect(result.code).toBe(0);
    expect(await snapshotTree(join(project, 'spool-a'))).toEqual(original);
    expect((await stat(join(project, 'spool-a/sub'))).mtimeMs).toBe(SUB_MTIME.getTime());
    expect((await spools(project)).b).toEqual(before.b);
    const [kept] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(await readFile(join(project, 'docker', kept, 'spool/0/one.txt'), 'utf8')).toBe('edited\n');
  });

  it('--into restores the whole component into a folder, the live folders untouched; a folder inside a live one is refused', async () => {
    const { project, archive } = await editedSpools();
    const before = await spools(project);
    const into = await temporaryFolder('orkestra-into-');
    const result = await runCli(['restore', archive, '--into', into, '-y'], { cwd: project });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`restored spool: 3 files written into ${into}`);
    expect(await readFile(join(into, 'spool-a/sub/two.json'), 'utf8')).toBe('{"two":2}\n');
    expect(await readFile(join(into, 'spool-b/three.json'), 'utf8')).toBe('{"three":3}\n');
    expect(await spools(project)).toEqual(before);
    expect((await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'))).toEqual([]);

    const inside = await runCli(['restore', archive, '--into', 'spool-b/old', '-y'], { cwd: project });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toContain('where spool is restored in place');
    expect(await spools(project)).toEqual(before);
  });

  it('a --files matching nothing exits 2 naming it', async () => {
    const { project, archive } = await editedSpools();
    const result = await runCli(['restore', archive, '--files', 'spool-c', '-y'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--files spool-c matches no file of spool in');
  });
});
