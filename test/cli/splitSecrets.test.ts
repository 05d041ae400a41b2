import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

const ARCHIVED_ENV = 'FROM_THE_BACKUP=1\n';
const ENV_FILE = { path: 'secrets/.env', content: ARCHIVED_ENV };

/**
 * The two halves of a split backup, made by hand: a data archive (no component needs an engine
 * here: it holds none, as a backup of services that were all skipped would) and a secrets
 * archive. The real split backup, with rustfs, is in offsiteStack.test.ts.
 */
async function splitPair(folder: string, ids: { data: string; secrets: string }) {
  const data = join(folder, 'orkestra-backup-local-20261130-020000.tar.gz');
  const secrets = join(folder, 'orkestra-backup-local-20261130-020000-secrets.tar.gz');
  const dataManifest = manifestFor([], { components: [], split: 'data', backupId: ids.data, environment: 'local' });
  await writeRawArchive(data, [{ path: 'manifest.json', content: JSON.stringify(dataManifest) }]);
  const secretsManifest = manifestFor([ENV_FILE], { split: 'secrets', backupId: ids.secrets, environment: 'local' });
  await writeRawArchive(secrets, [{ path: 'manifest.json', content: JSON.stringify(secretsManifest) }, ENV_FILE]);
  return { data, secrets };
}

describe('restore of a split backup (--secrets)', () => {
  it('restores the pair as one operation; the dry run says where each component comes from', async () => {
    const project = await makeProject();
    const id = randomUUID();
    const { data, secrets } = await splitPair(project, { data: id, secrets: id });
    const dryRun = await runCli(['restore', data, '--secrets', secrets, '--dry-run'], { cwd: project });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('secrets (from orkestra-backup-local-20261130-020000-secrets.tar.gz, every SHA-256 verified)');
    const restored = await runCli(['restore', data, '--secrets', secrets, '-y'], { cwd: project });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('restored secrets');
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ARCHIVED_ENV);
  });

  it('the data archive alone says where its secrets are', async () => {
    const project = await makeProject();
    const id = randomUUID();
    const { data } = await splitPair(project, { data: id, secrets: id });
    const result = await runCli(['restore', data, '--dry-run'], { cwd: project });
    expect(result.stderr).toContain('is the data half of a split backup; its secrets are in their own archive (--secrets <file>)');
  });

  it('swapped archives, a data archive as --secrets, and two runs are refused (exit 2) with nothing touched; --allow-mismatch combines two runs', async () => {
    const project = await makeProject();
    const { data, secrets } = await splitPair(project, { data: randomUUID(), secrets: randomUUID() });
    await writeFile(join(project, 'docker/.env'), 'LIVE=1\n');
    const before = await snapshotTree(project);
    const cases: [string[], RegExp][] = [
      [
        ['restore', secrets, '--secrets', data, '-y'],
        /-secrets\.tar\.gz is the secrets archive of a split backup\. Give the data archive first/,
      ],
      [['restore', data, '--secrets', data, '-y'], /020000\.tar\.gz is not the secrets archive of a split backup \(it holds nothing\)/],
      [
        ['restore', data, '--secrets', secrets, '-y'],
        /is not from the same backup as .* \(backupId [0-9a-f-]{36} vs [0-9a-f-]{36}\)\. .*--allow-mismatch/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd: project });
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
    }
    expect(await snapshotTree(project)).toEqual(before);
    const combined = await runCli(['restore', data, '--secrets', secrets, '--allow-mismatch', '-y'], { cwd: project });
    expect(combined.code, combined.stderr).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ARCHIVED_ENV);
  });

  it('--split-secrets without secrets, or with nothing else, is refused before any component is asked about', async () => {
    const project = await makeProject();
    const without = await runCli(['backup', '-c', 'redis', '-y', '--split-secrets'], {
      cwd: project,
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    expect(without.stderr).toContain('--split-secrets: secrets is not among the components backed up');
    expect(without.code).toBe(2);
    const only = await runCli(['backup', '-c', 'secrets', '-y', '--secrets-output', join(project, 's.tar.gz')], { cwd: project });
    expect(only.stderr).toContain('--split-secrets: secrets is the only component');
    expect(only.code).toBe(2);
  });
});
