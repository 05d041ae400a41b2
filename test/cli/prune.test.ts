import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

const ENV_FILE = { path: 'secrets/.env', content: 'A=1\n' };

/** A small sound archive of `environment` made at `createdAt`, named as backup names it. */
async function archiveAt(folder: string, environment: string, createdAt: string): Promise<string> {
  const stamp = createdAt.replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
  const name = `orkestra-backup-${environment}-${stamp}.tar.gz`;
  const manifest = manifestFor([ENV_FILE], { environment, createdAt });
  await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ENV_FILE]);
  return name;
}

async function folderWithArchives() {
  const project = await makeProject();
  const folder = join(project, 'backups');
  const daily = [];
  for (let day = 20; day <= 29; day += 1) daily.push(await archiveAt(folder, 'local', `2026-11-${day}T03:00:00Z`));
  const sameDay = await archiveAt(folder, 'local', '2026-11-29T01:00:00Z'); // an older one of the 29th
  const otherEnvironment = await archiveAt(folder, 'prod', '2026-11-01T03:00:00Z');
  const empty = 'orkestra-backup-local-20261130-030000.tar.gz';
  await writeFile(join(folder, empty), ''); // the newest is a failed, empty run
  const garbage = 'orkestra-backup-local-20261130-040000.tar.gz';
  await writeFile(join(folder, garbage), 'not an archive');
  await writeFile(join(folder, 'notes.txt'), 'not an archive either');
  return { project, folder, daily, sameDay, otherEnvironment, empty, garbage };
}

describe('list and prune through the binary', () => {
  it('list --json shows every archive newest first, with broken ones marked', async () => {
    const { project, folder, empty, daily } = await folderWithArchives();
    const result = await runCli(['list', '--json'], { cwd: project });
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as { folder: string; archives: { name: string; sound: boolean; environment?: string }[] };
    expect(listed.folder).toBe(folder);
    expect(listed.archives).toHaveLength(14);
    expect(listed.archives.find((archive) => archive.name === empty)).toMatchObject({ sound: false });
    expect(listed.archives.find((archive) => archive.name === daily[9])).toMatchObject({ sound: true, environment: 'local' });
    const text = await runCli(['list'], { cwd: project });
    expect(text.stdout).toContain(`${empty}  0 B  BROKEN: empty file (0 bytes)`);
  });

  it('prune --dry-run says what each rule keeps and removes nothing; prune then removes exactly that', async () => {
    const { project, folder, daily, sameDay, otherEnvironment, empty, garbage } = await folderWithArchives();
    const before = (await readdir(folder)).sort();
    const dryRun = await runCli(['prune', folder, '--keep-daily', '3', '--dry-run', '--json'], { cwd: project });
    expect(dryRun.code).toBe(0);
    const plan = JSON.parse(dryRun.stdout) as { archives: { name: string; keep: boolean; reasons: string[] }[] };
    const kept = plan.archives.filter((archive) => archive.keep).map((archive) => archive.name);
    // The three newest days' newest archives, and the broken ones left in place; never another environment's.
    expect(kept.sort()).toEqual([daily[7], daily[8], daily[9], empty, garbage].sort());
    expect(plan.archives.find((archive) => archive.name === daily[9])?.reasons).toEqual(['newest sound archive', 'daily 2026-11-29']);
    expect(plan.archives.map((archive) => archive.name)).not.toContain(otherEnvironment);
    expect((await readdir(folder)).sort()).toEqual(before);

    const prune = await runCli(['prune', folder, '--keep-daily', '3'], { cwd: project });
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain('Removed 8 of 13 archives of environment local');
    const after = await readdir(folder);
    expect(after.sort()).toEqual([daily[7], daily[8], daily[9], empty, garbage, otherEnvironment, 'notes.txt'].sort());
    expect(after).not.toContain(sameDay);
  });

  it('--remove-broken removes the broken ones too; --env prunes another environment', async () => {
    const { project, folder, empty, garbage, otherEnvironment } = await folderWithArchives();
    expect((await runCli(['prune', folder, '--keep-last', '1', '--remove-broken'], { cwd: project })).code).toBe(0);
    expect(await readdir(folder)).not.toContain(empty);
    expect(await readdir(folder)).not.toContain(garbage);
    await archiveAt(folder, 'prod', '2026-11-02T03:00:00Z');
    expect((await runCli(['prune', folder, '--keep-last', '1', '--env', 'prod'], { cwd: project })).code).toBe(0);
    expect(await readdir(folder)).not.toContain(otherEnvironment);
  });

  it('a prune without any keep rule, or with a bad number, is refused (exit 2) and removes nothing', async () => {
    const { project, folder } = await folderWithArchives();
    const before = (await readdir(folder)).sort();
    const none = await runCli(['prune', folder], { cwd: project });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('prune needs at least one keep rule above 0; nothing was removed');
    const zero = await runCli(['prune', folder, '--keep-daily', '0'], { cwd: project });
    expect(zero.code).toBe(2);
    const bad = await runCli(['prune', folder, '--keep-daily', 'seven'], { cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--keep-daily needs a whole number, not "seven"');
    expect((await readdir(folder)).sort()).toEqual(before);
  });

  it('backup --prune prunes the folder after a successful backup, keeping the new archive', async () => {
    const { project, folder, daily } = await folderWithArchives();
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '--prune', 'last=2'], { cwd: project });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    expect(backup.stderr).toMatch(/Pruned .*backups: 10 removed, 4 kept/);
    const after = await readdir(folder);
    expect(after).toContain(archive.split('/').pop());
    expect(after).toContain(daily[9]);
    expect(after).not.toContain(daily[8]);
  });

  it('the secrets archives of split backups are a series of their own: --keep-last 1 keeps the newest of each', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const data = [await archiveAt(folder, 'local', '2026-11-20T03:00:00Z'), await archiveAt(folder, 'local', '2026-11-21T03:00:00Z')];
    const secrets: string[] = [];
    for (const createdAt of ['2026-11-20T03:00:00Z', '2026-11-21T03:00:00Z']) {
      const name = (await archiveAt(folder, 'local', createdAt)).replace('.tar.gz', '-secrets.tar.gz');
      const manifest = manifestFor([ENV_FILE], { environment: 'local', createdAt, split: 'secrets' });
      await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ENV_FILE]);
      secrets.push(name);
    }
    const result = await runCli(['prune', folder, '--keep-last', '1'], { cwd: project });
    expect(result.code).toBe(0);
    expect((await readdir(folder)).sort()).toEqual([data[1], secrets[1]].sort());
  });
});
