import { chmod, mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { withEditedManifest } from '../helpers/directoryArchives.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

/** `directory` components declared in orkestra-backup.json, through the binary on real folders (no Docker involved). */
const CONFIG = { components: { 'marketing-spool': { kind: 'directory', path: 'docker/marketing-spool-*' } } };
const MTIME = new Date('2026-03-04T05:06:07Z');

async function spoolProject(): Promise<string> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
  const a = join(project, 'docker/marketing-spool-a');
  await mkdir(join(a, 'imports/2026/ünïcødé ✓'), { recursive: true });
  await mkdir(join(a, 'empty'), { recursive: true });
  await writeFile(join(a, 'imports/2026/ünïcødé ✓/list.csv'), 'email\nada@example.com\n');
  await writeFile(join(a, 'run.sh'), '#!/bin/sh\necho import\n');
  await chmod(join(a, 'run.sh'), 0o750);
  await writeFile(join(a, 'private.json'), '{"token":"t"}');
  await chmod(join(a, 'private.json'), 0o600);
  await chmod(join(a, 'empty'), 0o700);
  await mkdir(join(project, 'docker/marketing-spool-b'));
  await writeFile(join(project, 'docker/marketing-spool-b/queue.txt'), 'job 1\n');
  for (const path of [
    'run.sh',
    'private.json',
    'imports/2026/ünïcødé ✓/list.csv',
    'empty',
    'imports/2026/ünïcødé ✓',
    'imports/2026',
    'imports',
    '',
  ]) {
    await utimes(join(a, path), MTIME, MTIME);
  }
  return project;
}

const run = (project: string, args: string[]) => runCli(args, { cwd: project });

describe('directory components from orkestra-backup.json', () => {
  it('round trip byte-exact with modes and mtimes: the damaged folders are moved aside whole and the backup put back', async () => {
    const project = await spoolProject();
    const spools = async () => ({
      a: await snapshotTree(join(project, 'docker/marketing-spool-a')),
      b: await snapshotTree(join(project, 'docker/marketing-spool-b')),
    });
    const before = await spools();
    const backup = await run(project, ['backup', '-c', 'marketing-spool', '-y']);
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    const inspect = await run(project, ['inspect', archive]);
    expect(inspect.stdout).toMatch(/docker\/marketing-spool-a\s+3 files/);
    expect((await run(project, ['verify', archive])).code).toBe(0);

    await rm(join(project, 'docker/marketing-spool-a/run.sh'));
    await writeFile(join(project, 'docker/marketing-spool-a/private.json'), 'changed');
    await writeFile(join(project, 'docker/marketing-spool-b/extra.txt'), 'not in the backup');
    const dryRun = await run(project, ['restore', archive, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(
      /docker\/marketing-spool-a \(3 files, [^)]+\): written beside it, then swapped in whole; the current folder is moved aside into docker\/\.pre-restore-<UTC stamp>\/marketing-spool\/0\//,
    );
    const restore = await run(project, ['restore', archive, '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(await spools()).toEqual(before);
    expect((await stat(join(project, 'docker/marketing-spool-a/run.sh'))).mtime.toISOString()).toBe(MTIME.toISOString());
    expect((await stat(join(project, 'docker/marketing-spool-a/empty'))).mtime.toISOString()).toBe(MTIME.toISOString());
    const [aside] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(await readdir(join(project, 'docker', aside, 'marketing-spool/1'))).toEqual(['extra.txt', 'queue.txt']);
  });

  it('an archive holding a component this project does not declare: left out (and said so) unless named, then restored as the archive defines it', async () => {
    const project = await spoolProject();
    const backup = await run(project, ['backup', '-c', 'marketing-spool,secrets', '-y']);
    expect(backup.code).toBe(0);
    await rename(join(project, 'orkestra-backup.json'), join(project, 'elsewhere.json'));
    await rm(join(project, 'docker/marketing-spool-b'), { recursive: true });
    const dryRun = await run(project, ['restore', backup.stdout.trim(), '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      "marketing-spool: not restored — this project's orkestra-backup.json does not declare it; to restore it as the archive defines it, name it: -c marketing-spool",
    );
    const named = await run(project, ['restore', backup.stdout.trim(), '-c', 'marketing-spool', '--dry-run']);
    expect(named.stdout).toContain(
      "marketing-spool is not declared in this project's orkestra-backup.json: restored as the archive defines it (directory docker/marketing-spool-*)",
    );
    expect(named.stdout).toContain(`${project}/docker/marketing-spool-b (1 file, 6 B): does not exist yet; it will be created`);
    const restore = await run(project, ['restore', backup.stdout.trim(), '-c', 'marketing-spool', '-y']);
    expect(restore.code).toBe(0);
    expect(await readdir(join(project, 'docker/marketing-spool-b'))).toEqual(['queue.txt']);
  });

  it('a file or folder named with a backslash is left out and listed, and the rest is backed up: one such name no longer fails the whole backup', async () => {
    const project = await spoolProject();
    const a = join(project, 'docker/marketing-spool-a');
    await writeFile(join(a, 'a\\b.txt'), 'odd');
    await mkdir(join(a, 'odd\\folder'));
    await writeFile(join(a, 'odd\\folder/inside.txt'), 'inside');
    const backup = await run(project, ['backup', '-c', 'marketing-spool', '-y']);
    expect(backup.stderr).not.toMatch(/unexpected failure/);
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain('not copied (links, special files or names with a backslash)');
    expect(backup.stderr).toContain('a\\b.txt');
    const find = await run(project, ['inspect', backup.stdout.trim(), '--find', '*', '--json']);
    const names = (JSON.parse(find.stdout) as { matches: { name: string }[] }).matches.map((match) => match.name);
    expect(names).toContain('run.sh');
    expect(names.some((name) => name.includes('\\'))).toBe(false);
  });

  it('a glob matching nothing is reported, not an error, with all; named explicitly it is an error', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
    const all = await runCli(['backup', 'all', '-y'], { cwd: project, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/marketing-spool.*no folder matches docker\/marketing-spool-\*/);
    const named = await run(project, ['backup', '-c', 'marketing-spool', '-y']);
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/marketing-spool.*no folder matches docker\/marketing-spool-\*/);
  });

  it.each([
    [{ components: { spool: { kind: 'directory' } } }, /orkestra-backup\.json: components\.spool\.path: .*expected string/],
    [{ components: { spool: { kind: 'folder', path: 'x' } } }, /components\.spool\.kind: unknown kind "folder" \(one of: directory/],
    [{ components: { redis: { kind: 'directory', path: 'x' } } }, /components\.redis: "redis" is a built-in component/],
    [{ components: { Spool: { kind: 'directory', path: 'x' } } }, /components\.Spool: a component name is lowercase/],
    [
      { components: { spool: { kind: 'directory', path: 'docker/../../*' } } },
      /components\.spool\.path: a folder glob never climbs out with "\.\."/,
    ],
    [
      { components: { spool: { kind: 'directory', path: 'docker/' } } },
      /components\.spool\.path: name folders inside the project or docker\//,
    ],
    [{ components: { spool: { kind: 'directory', path: '.' } } }, /components\.spool\.path: name folders inside the project or docker\//],
    [
      { components: { spool: { kind: 'directory', path: './/backups/' } } },
      /components\.spool\.path: name folders inside the project or docker\/ \(docker\/data\), not the project, docker\/, backups\/ or \/ itself/,
    ],
  ])('a bad declaration %j is refused with the path of the bad field (exit 2), nothing written', async (config, message) => {
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(config));
    const backup = await run(project, ['backup', '-c', 'secrets', '-y']);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toMatch(message);
    await expect(readdir(join(project, 'backups'))).rejects.toThrow();
  });
});

describe('a ** glob over nested folders', () => {
  const NESTED = { components: { data: { kind: 'directory', path: 'docker/data/**' } } };

  async function nestedProject(): Promise<string> {
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(NESTED));
    await mkdir(join(project, 'docker/data/a/b'), { recursive: true });
    await writeFile(join(project, 'docker/data/top.txt'), 'top\n');
    await writeFile(join(project, 'docker/data/a/middle.txt'), 'middle\n');
    await writeFile(join(project, 'docker/data/a/b/deep.txt'), 'deep\n');
    return project;
  }

  it('archives each file once (the outermost folder holds the nested matches) and restores with no declared folder missing', async () => {
    const project = await nestedProject();
    const before = await snapshotTree(join(project, 'docker/data'));
    const backup = await run(project, ['backup', '-c', 'data', '-y']);
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    expect(backup.stderr).toContain('3 files in 1 folder');
    const inspect = await run(project, ['inspect', archive]);
    expect(inspect.stdout).toMatch(/docker\/data\s+3 files/);

    await rm(join(project, 'docker/data/a/b'), { recursive: true });
    await writeFile(join(project, 'docker/data/a/middle.txt'), 'changed\n');
    const restore = await run(project, ['restore', archive, '-y']);
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(await snapshotTree(join(project, 'docker/data'))).toEqual(before);
  });

  it('an archive of an earlier version that recorded the nested folders too restores them once, as part of the outermost', async () => {
    const project = await nestedProject();
    const backup = await run(project, ['backup', '-c', 'data', '-y']);
    const archive = backup.stdout.trim();
    // As an earlier version wrote it: docker/data/a recorded as a folder of its own, its file a second time.
    const older = await withEditedManifest(archive, `${archive}.older.tar.gz`, (manifest) => {
      const [root] = manifest.details.data.roots;
      manifest.details.data.roots.push({ ...root, path: 'docker/data/a', folders: [{ ...root.folders[1], path: 'b' }] });
    });
    const before = await snapshotTree(join(project, 'docker/data'));
    await writeFile(join(project, 'docker/data/a/b/deep.txt'), 'changed\n');
    const dryRun = await run(project, ['restore', older, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('docker/data/a lies inside docker/data: its files are restored as part of it');
    const restore = await run(project, ['restore', older, '-y']);
    expect(restore.code).toBe(0);
    expect(await snapshotTree(join(project, 'docker/data'))).toEqual(before);
  });

  it('a declaration matching docker/ itself is refused at backup with what to declare instead (exit 2)', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components: { all: { kind: 'directory', path: 'dock*' } } }));
    const backup = await run(project, ['backup', '-c', 'all', '-y']);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain("dock* matches docker, which is the project's docker/ folder");
  });
});
