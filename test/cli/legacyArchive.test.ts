import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

/**
 * The original backup.sh made its archive with `tar czf out.tar.gz -C <tmp> .`: names start with
 * `./`, folders have entries of their own, the manifest is wherever tar put it and records no
 * checksums. Such archives must still restore.
 */
const LEGACY_MANIFEST = JSON.stringify({
  schema: 'orkestra-backup/v1',
  createdAt: '2026-05-27T07:17:29Z',
  environment: 'staging',
  host: 'orkestra-staging-1',
  components: ['secrets'],
});

async function legacyArchive(project: string): Promise<string> {
  const file = join(project, 'backups', 'orkestra-backup-staging-20260527-071724.tar.gz');
  await writeRawArchive(file, [
    { path: './', type: 'Directory' },
    { path: './secrets/', type: 'Directory' },
    { path: './secrets/.env', content: 'FROM_THE_OLD_SCRIPT=1\n' },
    { path: './secrets/keys/', type: 'Directory' },
    { path: './secrets/keys/jwt-private.pem', content: 'old private key\n' },
    { path: './manifest.json', content: LEGACY_MANIFEST },
  ]);
  return file;
}

describe('archives of the original bash scripts', () => {
  it('dry-run says no checksums were recorded and lists the files; restore -y brings them back', async () => {
    const project = await makeProject();
    const archive = await legacyArchive(project);
    const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('Archive: made by the original backup.sh; no checksums to verify, structure checked');
    expect(dryRun.stdout).toContain('docker/.env: exists (would prompt / move aside)');
    expect(dryRun.stdout).toContain('docker/keys/jwt-private.pem: exists (would prompt / move aside)');
    const restore = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(restore.code).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe('FROM_THE_OLD_SCRIPT=1\n');
    expect(await readFile(join(project, 'docker/keys/jwt-private.pem'), 'utf8')).toBe('old private key\n');
  });

  it('verify and inspect read it, and say that it carries no checksums', async () => {
    const project = await makeProject();
    const archive = await legacyArchive(project);
    const verify = await runCli(['verify', archive], { cwd: project });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('by the original backup.sh');
    const inspect = JSON.parse((await runCli(['inspect', archive, '--json'], { cwd: project })).stdout);
    expect(inspect.components.secrets.files.map((file: { path: string }) => file.path)).toEqual(['.env', 'keys/jwt-private.pem']);
  });

  it('a legacy archive whose file was cut short is still refused', async () => {
    const project = await makeProject();
    const archive = await legacyArchive(project);
    const bytes = await readFile(archive);
    await writeFile(archive, bytes.subarray(0, bytes.length - 40));
    const before = await readFile(join(project, 'docker/.env'), 'utf8');
    const restore = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/truncated or damaged/);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(before);
  });
});
