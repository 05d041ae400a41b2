import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { ENV_TEXT, makeProject, PRIVATE_KEY, PUBLIC_KEY, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const run = (project: string, args: string[]) => runCli(args, { cwd: project });

async function backup(project: string, components: string): Promise<string> {
  const result = await run(project, ['backup', '-c', components, '-y']);
  expect(result.stderr).not.toContain('FAILED');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

/** docker/ as it is, without the folders where restores keep what they replace. */
async function liveTree(project: string): Promise<Record<string, string>> {
  const tree = await snapshotTree(join(project, 'docker'));
  return Object.fromEntries(Object.entries(tree).filter(([path]) => !path.startsWith('.pre-restore-')));
}

async function keptFolders(project: string): Promise<string[]> {
  return (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
}

/** A project whose secrets all differ from its backup, and that backup. */
async function editedSecrets(): Promise<{ project: string; archive: string }> {
  const project = await makeProject();
  const archive = await backup(project, 'secrets');
  await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
  await writeFile(join(project, 'docker/keys/jwt-private.pem'), 'edited private\n');
  await writeFile(join(project, 'docker/keys/jwt-public.pem'), 'edited public\n');
  return { project, archive };
}

describe('restore --files / --into of secrets through the binary', () => {
  it('--files .env restores only .env, keeps the replaced one aside, and leaves every other file byte-identical', async () => {
    const { project, archive } = await editedSecrets();
    const before = await liveTree(project);
    const result = await run(project, ['restore', archive, '--files', '.env', '-y']);
    expect(result.stderr).not.toContain('FAILED');
    expect(result.code).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    const after = await liveTree(project);
    expect({ ...after, '.env': before['.env'] }).toEqual(before);
    expect(after['.env']).not.toBe(before['.env']);
    const [kept] = await keptFolders(project);
    expect(await readFile(join(project, 'docker', kept, '.env'), 'utf8')).toBe('EDITED=1\n');
    expect(await readdir(join(project, 'docker', kept))).toEqual(['.env']);
  });

  it("a glob ('keys/*.pem') restores exactly the files it matches", async () => {
    const { project, archive } = await editedSecrets();
    await writeFile(join(project, 'docker/keys/notes.txt'), 'not in the backup\n');
    const before = await liveTree(project);
    const result = await run(project, ['restore', archive, '--files', 'keys/*.pem', '-y']);
    expect(result.code).toBe(0);
    expect(await readFile(join(project, 'docker/keys/jwt-private.pem'), 'utf8')).toBe(PRIVATE_KEY);
    expect(await readFile(join(project, 'docker/keys/jwt-public.pem'), 'utf8')).toBe(PUBLIC_KEY);
    const after = await liveTree(project);
    expect(after['.env']).toBe(before['.env']);
    expect(after['keys/notes.txt']).toBe(before['keys/notes.txt']);
  });

  it('the dry run states per selector what the archive holds and what is there now, the totals, and changes nothing', async () => {
    const { project, archive } = await editedSecrets();
    await writeFile(join(project, 'docker/keys/jwt-public.pem'), PUBLIC_KEY);
    const before = await liveTree(project);
    const result = await run(project, ['restore', archive, '--files', 'keys', '--files', '.env', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Selective restore: only the selection of secrets');
    expect(result.stdout).toContain('--files keys: 2 files in the archive: 0 to add, 1 to overwrite (different), 1 identical');
    expect(result.stdout).toContain('--files .env: 1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical');
    expect(result.stdout).toContain('only the selection — 3 files in the archive: 0 to add, 2 to overwrite (different), 1 identical');
    const json = JSON.parse((await run(project, ['restore', archive, '--files', '.env', '--dry-run', '--json'])).stdout);
    expect(json.components[0].selection.totals).toBe('1 file in the archive: 0 to add, 1 to overwrite (different), 0 identical');
    expect(await liveTree(project)).toEqual(before);
    expect(await keptFolders(project)).toEqual([]);
  });

  it('--into writes the selection into the folder and leaves the live secrets identical; a different file there is refused', async () => {
    const { project, archive } = await editedSecrets();
    const before = await liveTree(project);
    const into = join(await temporaryFolder('orkestra-into-'), 'restored');
    const dryRun = await run(project, ['restore', archive, '--files', 'keys/jwt-*', '--into', into, '--dry-run']);
    expect(dryRun.stdout).toContain(`written into ${into}, the live target is not touched`);
    const result = await run(project, ['restore', archive, '--files', 'keys/jwt-*', '--into', into, '-y']);
    expect(result.code).toBe(0);
    expect(await snapshotTree(into)).toMatchObject({ 'keys/': expect.any(String) });
    expect(await readFile(join(into, 'keys/jwt-private.pem'), 'utf8')).toBe(PRIVATE_KEY);
    expect(await readFile(join(into, 'keys/jwt-public.pem'), 'utf8')).toBe(PUBLIC_KEY);
    expect(await readdir(into)).toEqual(['keys']);
    expect(await liveTree(project)).toEqual(before);
    expect(await keptFolders(project)).toEqual([]);

    // Identical files already there are left as they are; a different one stops the restore before any write.
    expect((await run(project, ['restore', archive, '--files', 'keys/jwt-*', '--into', into, '-y'])).code).toBe(0);
    await writeFile(join(into, 'keys/jwt-public.pem'), 'mine\n');
    const intoBefore = await snapshotTree(into);
    const refused = await run(project, ['restore', archive, '--into', into, '-y']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${join(into, 'keys/jwt-public.pem')} exists and differs from the backup; --into never overwrites`);
    expect(await snapshotTree(into)).toEqual(intoBefore);
  });

  it('--into the live folder (or one inside it) is refused with exit 2', async () => {
    const { project, archive } = await editedSecrets();
    const before = await liveTree(project);
    for (const into of ['docker', 'docker/keys/old']) {
      const result = await run(project, ['restore', archive, '--into', into, '-y']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--into .* overlaps .*, where secrets is restored in place/);
    }
    expect(await liveTree(project)).toEqual(before);
  });

  it('a selector matching nothing exits 2 naming it, and changes nothing', async () => {
    const { project, archive } = await editedSecrets();
    const before = await liveTree(project);
    const result = await run(project, ['restore', archive, '--files', '.env', '--files', 'keys/*.key', '-y']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--files keys/*.key matches no file of secrets in');
    expect(await liveTree(project)).toEqual(before);
    expect(await keptFolders(project)).toEqual([]);
  });
});

/** Whether files under the temporary folder can be made immutable (root on ext4, xfs, btrfs; not tmpfs or overlayfs). */
function canMakeImmutable(): boolean {
  const probe = join(tmpdir(), `okb-immutable-probe-${process.pid}`);
  writeFileSync(probe, '');
  try {
    return spawnSync('chattr', ['+i', probe]).status === 0;
  } finally {
    spawnSync('chattr', ['-i', probe]);
    rmSync(probe, { force: true });
  }
}
const chattr = canMakeImmutable();
const immutable: string[] = [];
afterEach(() => {
  for (const path of immutable.splice(0)) spawnSync('chattr', ['-i', path]);
});

describe.skipIf(!chattr)('a selective restore failing midway', () => {
  it('a file that cannot be replaced (immutable) puts back every file already swapped: docker/ stays as it was', async () => {
    const { project, archive } = await editedSecrets();
    const locked = join(project, 'docker/keys/jwt-public.pem');
    expect(spawnSync('chattr', ['+i', locked]).status).toBe(0);
    immutable.push(locked);
    const before = await liveTree(project);
    const result = await run(project, ['restore', archive, '--files', '.env', '--files', 'keys/*', '-y']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the previous content was put back');
    expect(await liveTree(project)).toEqual(before);
    for (const kept of await keptFolders(project)) {
      expect(execFileSync('find', [join(project, 'docker', kept), '-type', 'f'], { encoding: 'utf8' })).toBe('');
    }
  });
});

describe('selector refusals', () => {
  it('unknown flags, a repeated --into, -c naming a component no selector picks from, and a selector no component takes exit 2', async () => {
    const project = await makeProject();
    const archive = await backup(project, 'secrets');
    const cases: [string[], RegExp][] = [
      [['--filez', '.env'], /unknown option --filez/],
      [['--into', 'a', '--into', 'b'], /--into may be given once/],
      [['--files', ''], /--files needs a PATH\|GLOB/],
    ];
    for (const [extra, message] of cases) {
      const result = await run(project, ['restore', archive, ...extra, '--dry-run']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify({ components: { spool: { kind: 'directory', path: 'spool' } } }));
    await mkdir(join(project, 'spool'));
    await writeFile(join(project, 'spool/a.txt'), 'a\n');
    const both = await backup(project, 'secrets,spool');
    const ambiguous = await run(project, ['restore', both, '--files', 'a.txt', '--dry-run']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('--files could apply to secrets, spool: name the one it picks from');
    const unselected = await run(project, ['restore', both, '-c', 'secrets,spool', '--into', '/tmp/x', '--dry-run']);
    expect(unselected.code).toBe(2);
    expect(unselected.stderr).toContain('--into could apply to secrets, spool');
    const extra = await run(project, ['restore', both, '-c', 'spool', '--files', 'a.txt', '--dry-run']);
    expect(extra.code).toBe(0);
    expect(extra.stdout).toContain('not restored: secrets');
  });
});

describe('selectors on a split backup (--secrets)', () => {
  it('--files picks from the secrets archive of the pair; --into leaves docker/ identical', async () => {
    const project = await makeProject();
    const id = randomUUID();
    const env = { path: 'secrets/.env', content: 'FROM_THE_BACKUP=1\n' };
    const data = join(project, 'orkestra-backup-local-20261130-020000.tar.gz');
    const secrets = join(project, 'orkestra-backup-local-20261130-020000-secrets.tar.gz');
    const dataManifest = manifestFor([], { components: [], split: 'data', backupId: id, environment: 'local' });
    await writeRawArchive(data, [{ path: 'manifest.json', content: JSON.stringify(dataManifest) }]);
    const secretsManifest = manifestFor([env], { split: 'secrets', backupId: id, environment: 'local' });
    await writeRawArchive(secrets, [{ path: 'manifest.json', content: JSON.stringify(secretsManifest) }, env]);
    const before = await liveTree(project);
    const into = join(await temporaryFolder('orkestra-into-'), 'pair');
    const result = await run(project, ['restore', data, '--secrets', secrets, '--files', '.env', '--into', into, '-y']);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(into, '.env'), 'utf8')).toBe('FROM_THE_BACKUP=1\n');
    expect(await liveTree(project)).toEqual(before);
  });
});
