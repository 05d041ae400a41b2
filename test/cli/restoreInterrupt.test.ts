import { mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

/**
 * SIGINT while a directory or the secrets are being restored: the target ends wholly old or
 * wholly new, never a mix, and the message says which and where the kept copy is.
 */
const BIG_BYTES = 160 * 1024 * 1024;

/** A file of `bytes` bytes, written in 1 MB blocks (memory stays small), each block marked with `mark`. */
async function writeBigFile(path: string, bytes: number, mark: string): Promise<void> {
  const file = await open(path, 'w', 0o600);
  try {
    const block = Buffer.alloc(1024 * 1024, 0);
    block.write(mark);
    for (let written = 0; written < bytes; written += block.length) await file.write(block);
  } finally {
    await file.close();
  }
}

/** Every file under `folder` named `name`, or staged for it beside its target (`.<name>.orkestra-restore-<pid>-<random>`). */
async function findNamed(folder: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if ((entry.name === name || entry.name.startsWith(`.${name}.orkestra-restore-`)) && entry.isFile())
      found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

/** Starts the restore and interrupts it (SIGINT unless told) once the archive's big file has started to be written somewhere under docker/. */
async function interruptedRestore(
  project: string,
  args: string[],
  big: string,
  original: string | undefined,
  signal: NodeJS.Signals = 'SIGINT',
) {
  const running = startCli(args, { cwd: project });
  await vi.waitFor(
    async () => {
      const writing = (await findNamed(join(project, 'docker'), big)).filter((path) => path !== original);
      const sizes = await Promise.all(writing.map((path) => stat(path).then((info) => info.size)));
      if (!sizes.some((size) => size > 0)) throw new Error(`${big} is not being written yet`);
    },
    { timeout: 120_000, interval: 5 },
  );
  running.signal(signal);
  const result = await running.result;
  return { ...result, said: `${result.stdout}\n${result.stderr}` };
}

async function keptFolders(project: string): Promise<string[]> {
  return (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
}

describe('an interrupted restore leaves the old content or the new, never a mix', () => {
  it(
    'SIGINT while a large directory restores: the folder is wholly old or wholly new, and the message says which and where the kept copy is',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      await writeFile(
        join(project, 'orkestra-backup.json'),
        JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
      );
      const spool = join(project, 'docker/spool');
      await rm(spool, { recursive: true, force: true });
      await mkdir(spool);
      await writeFile(join(spool, 'new.txt'), 'from the backup\n');
      await writeBigFile(join(spool, 'big.bin'), BIG_BYTES, 'new');
      const backup = await runCli(['backup', '-c', 'spool', '-y'], { cwd: project });
      expect(backup.code).toBe(0);
      const wholeNew = await snapshotTree(spool);

      await rm(spool, { recursive: true });
      await mkdir(spool);
      await writeFile(join(spool, 'old.txt'), 'before the restore\n');
      const wholeOld = await snapshotTree(spool);

      const result = await interruptedRestore(project, ['restore', backup.stdout.trim(), '-y'], 'big.bin', undefined);
      expect(result.said).not.toMatch(/\n\s+at /);
      const after = await snapshotTree(spool);
      if (result.code === 0) {
        expect(after).toEqual(wholeNew);
        const [kept] = await keptFolders(project);
        expect(result.said).toContain(join(project, 'docker', kept, 'spool/0'));
        expect(await snapshotTree(join(project, 'docker', kept, 'spool/0'))).toEqual(wholeOld);
      } else {
        expect(after).toEqual(wholeOld);
        expect(result.said).toContain(
          `interrupted while writing the restored copy beside ${spool} — no folder was replaced: each is as it was`,
        );
        expect(await keptFolders(project)).toEqual([]);
      }
      // Nothing half-written is left beside the folder.
      expect((await readdir(join(project, 'docker'))).filter((name) => name.includes('orkestra-restore'))).toEqual([]);
    },
  );

  it(
    'SIGINT while the secrets restore: docker/.env and docker/keys/ are all of the backup or all as they were',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      const keys = join(project, 'docker/keys');
      await writeBigFile(join(keys, 'zz-large.key'), BIG_BYTES, 'new key');
      const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
      expect(backup.code).toBe(0);
      const docker = join(project, 'docker');
      const secretsOf = async () => {
        const tree = await snapshotTree(docker);
        return Object.fromEntries(Object.entries(tree).filter(([path]) => path === '.env' || path.startsWith('keys')));
      };
      const wholeNew = await secretsOf();

      await writeFile(join(docker, '.env'), 'MONGO_ROOT_PASSWORD=changed-since\n');
      await writeFile(join(keys, 'jwt-private.pem'), 'changed since\n');
      await writeBigFile(join(keys, 'zz-large.key'), 1024 * 1024, 'old key');
      const wholeOld = await secretsOf();

      const result = await interruptedRestore(project, ['restore', backup.stdout.trim(), '-y'], 'zz-large.key', join(keys, 'zz-large.key'));
      expect(result.said).not.toMatch(/\n\s+at /);
      const after = await secretsOf();
      if (result.code === 0) {
        expect(after).toEqual(wholeNew);
        expect(result.said).toMatch(/3 written, 3 moved aside to docker\/\.pre-restore-/);
      } else {
        expect(after).toEqual(wholeOld);
        expect(result.said).toContain('no secret file was replaced: docker/.env and docker/keys/ are as they were');
      }
      expect((await findNamed(docker, 'zz-large.key')).filter((path) => path.includes('orkestra-restore'))).toEqual([]);
    },
  );

  it(
    'SIGKILL while the secrets are staged leaves the staged copy (no handler runs); the next restore removes it and restores whole',
    { timeout: 180_000 },
    async () => {
      const project = await makeProject();
      const docker = join(project, 'docker');
      const keys = join(docker, 'keys');
      await writeBigFile(join(keys, 'zz-large.key'), BIG_BYTES, 'new key');
      const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
      expect(backup.code).toBe(0);
      const secretsOf = async () => {
        const tree = await snapshotTree(docker);
        return Object.fromEntries(Object.entries(tree).filter(([path]) => path === '.env' || path.startsWith('keys')));
      };
      const wholeNew = await secretsOf();
      await writeBigFile(join(keys, 'zz-large.key'), 1024 * 1024, 'old key');
      const staged = async () => (await readdir(docker, { recursive: true })).filter((path) => path.includes('orkestra-restore'));

      const killed = await interruptedRestore(
        project,
        ['restore', backup.stdout.trim(), '-y'],
        'zz-large.key',
        join(keys, 'zz-large.key'),
        'SIGKILL',
      );
      expect(killed.code).not.toBe(0);
      expect(await staged()).toContainEqual(expect.stringMatching(/^keys\/\.zz-large\.key\.orkestra-restore-\d+-[0-9a-f]{8}$/));

      const again = await runCli(['restore', backup.stdout.trim(), '-y'], { cwd: project });
      expect(again.stderr).not.toMatch(/\n\s+at /);
      expect(again.code).toBe(0);
      expect(await staged()).toEqual([]);
      expect(await secretsOf()).toEqual(wholeNew);
    },
  );
});
