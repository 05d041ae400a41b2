import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTarBytes, writeTarBytes } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

const FOLDERS = ['alpha', 'beta', 'gamma'] as const;

/** Three directory components backed up into one archive, then edited, so that a restore of beta would change it. */
async function threeFolders(): Promise<{ project: string; archive: string; original: Record<string, string>[] }> {
  const project = await makeProject();
  const components = Object.fromEntries(FOLDERS.map((name) => [name, { kind: 'directory', path: `data-${name}` }]));
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components }));
  for (const name of FOLDERS) {
    await mkdir(join(project, `data-${name}`));
    await writeFile(join(project, `data-${name}/file.txt`), `${name}-content-of-the-backup\n`);
  }
  const backup = await runCli(['backup', '-c', FOLDERS.join(','), '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  const original = await trees(project);
  for (const name of FOLDERS) await writeFile(join(project, `data-${name}/file.txt`), `${name} edited since\n`);
  return { project, archive: backup.stdout.trim(), original };
}

/** A copy of the archive with one byte of `name`'s file changed (same size: only its SHA-256 tells). */
async function damagedCopy(project: string, archive: string, ...names: string[]): Promise<string> {
  const tar = await readTarBytes(archive);
  for (const name of names) {
    const at = tar.indexOf(`${name}-content-of-the-backup`);
    expect(at).toBeGreaterThan(0);
    tar[at] = 'X'.charCodeAt(0);
  }
  const file = join(project, 'backups', `damaged-${names.join('-')}.tar.gz`);
  await writeTarBytes(file, tar);
  return file;
}

const trees = async (project: string) => Promise.all(FOLDERS.map((name) => snapshotTree(join(project, `data-${name}`))));
const keptAside = async (project: string) => (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));

describe('what a selective restore checks before its first change', () => {
  it('a selected file whose bytes were changed is refused (exit 2) before anything is touched', async () => {
    const { project, archive } = await threeFolders();
    const damaged = await damagedCopy(project, archive, 'beta');
    const before = await trees(project);
    const result = await runCli(['restore', damaged, '-c', 'beta', '--files', 'file.txt', '-y'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('beta/0/file.txt fails its SHA-256 checksum');
    expect(result.stderr).toContain('Nothing was touched');
    expect(await trees(project)).toEqual(before);
    expect(await keptAside(project)).toEqual([]);
  });

  it('damage in components it does not restore (before and after its own in the archive) does not stop it, and it says it checked only what it reads', async () => {
    const { project, archive, original } = await threeFolders();
    const damaged = await damagedCopy(project, archive, 'alpha', 'gamma');
    const before = await trees(project);

    const dryRun = await runCli(['restore', damaged, '-c', 'beta', '--files', 'file.txt', '--dry-run'], { cwd: project });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      'Archive: 3 files; the 1 this restore reads verified (SHA-256), the rest not read (verify checks them)',
    );

    const result = await runCli(['restore', damaged, '-c', 'beta', '--files', 'file.txt', '-y'], { cwd: project });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('1 of 3 files verified: only those this restore reads (verify checks the whole archive)');
    const [alpha, beta, gamma] = await trees(project);
    expect(beta).toEqual(original[1]);
    expect(beta).not.toEqual(before[1]);
    expect([alpha, gamma]).toEqual([before[0], before[2]]);

    // The whole archive's damage is still found by verify and by a whole restore.
    const verify = await runCli(['verify', damaged], { cwd: project });
    expect(verify.code).not.toBe(0);
    expect(verify.stdout + verify.stderr).toContain('alpha/0/file.txt fails its SHA-256 checksum');
    const whole = await runCli(['restore', damaged, '-c', 'gamma', '-y'], { cwd: project });
    expect(whole.code).toBe(2);
    expect(whole.stderr).toContain('fails its SHA-256 checksum');
  });
});
