import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BINARY, runCli } from '../helpers/cli.js';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { ENV_TEXT, makeProject, PRIVATE_KEY, snapshotTree } from '../helpers/project.js';
import { namesBesideHistory } from '../helpers/history.js';

async function backupSecrets(project: string, extra: string[] = []): Promise<string> {
  const result = await runCli(['backup', '-c', 'secrets', '-y', ...extra], { cwd: project });
  expect(result.stderr).not.toContain('FAILED');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

describe('secrets backup and restore through the binary', () => {
  it('backup -c secrets -y writes a 0600 archive under backups/ with manifest.json first', async () => {
    const project = await makeProject();
    const archive = await backupSecrets(project);
    expect(archive).toMatch(/\/backups\/orkestra-backup-local-\d{8}-\d{6}\.tar\.gz$/);
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual([
      'manifest.json',
      'index/secrets.jsonl',
      'secrets/.env',
      'secrets/keys/jwt-private.pem',
      'secrets/keys/jwt-public.pem',
    ]);
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest).toMatchObject({ schema: 'orkestra-backup/v1.1', environment: 'local', components: ['secrets'] });
    expect(manifest.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(manifest.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.files).toBeUndefined();
    expect(manifest.index.secrets.files).toBe(3);
    const index = execFileSync('tar', ['xzOf', archive, 'index/secrets.jsonl'], { encoding: 'utf8' });
    expect(
      index
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { path: string }).path),
    ).toEqual(['.env', 'keys/jwt-private.pem', 'keys/jwt-public.pem']);
    expect(JSON.stringify(manifest)).not.toContain('hunter2-secret');
    expect(execFileSync('tar', ['xzOf', archive, 'secrets/.env'], { encoding: 'utf8' })).toBe(ENV_TEXT);
  });

  it('bin/orkestra-backup runs as a program of its own (its #! line gives node the memory flags)', async () => {
    const project = await makeProject();
    const archive = execFileSync(BINARY, ['backup', '-c', 'secrets', '-y'], { cwd: project, encoding: 'utf8' }).trim();
    expect(execFileSync('tar', ['tzf', archive], { encoding: 'utf8' })).toContain('secrets/.env');
    const shebang = (await readFile(BINARY, 'utf8')).split('\n')[0];
    expect(shebang).toBe('#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=2048 --heap-growing-percent=100');
  });

  it('names the archive after --env / ORKESTRA_ENV and writes to --output', async () => {
    const project = await makeProject();
    expect(await backupSecrets(project, ['--env', 'staging'])).toMatch(/orkestra-backup-staging-\d{8}-\d{6}\.tar\.gz$/);
    const fromEnv = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project, env: { ORKESTRA_ENV: 'prod' } });
    expect(fromEnv.stdout).toMatch(/orkestra-backup-prod-/);
    await mkdir(join(project, 'elsewhere'));
    const output = join(project, 'elsewhere', 'mine.tar.gz');
    expect(await backupSecrets(project, ['-o', output])).toBe(output);
    const again = await runCli(['backup', '-c', 'secrets', '-y', '-o', output], { cwd: project });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('--json prints a machine-readable result on stdout', async () => {
    const project = await makeProject();
    const result = await runCli(['backup', 'all', '-y', '--json'], { cwd: project, env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ ok: true, components: ['secrets'] });
    expect(parsed.archive).toMatch(/\.tar\.gz$/);
  });

  it('dry-run reports new and existing files and changes nothing', async () => {
    const project = await makeProject();
    const archive = await backupSecrets(project);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const before = await snapshotTree(join(project, 'docker'));
    const result = await runCli(['restore', archive, '-c', 'secrets', '--dry-run'], { cwd: project });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('docker/.env: exists (would prompt / move aside)');
    expect(result.stdout).toContain('docker/keys/jwt-private.pem: exists, identical to the backup');
    expect(result.stdout).toContain('Nothing was changed.');
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
  });

  it('restore -y brings the files back and moves the edited .env aside, with modes kept', async () => {
    const project = await makeProject();
    const archive = await backupSecrets(project);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const { rm } = await import('node:fs/promises');
    await rm(join(project, 'docker/keys/jwt-private.pem'));
    const result = await runCli(['restore', archive, '-c', 'secrets', '-y'], { cwd: project });
    expect(result.code).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await readFile(join(project, 'docker/keys/jwt-private.pem'), 'utf8')).toBe(PRIVATE_KEY);
    expect((await stat(join(project, 'docker/keys/jwt-private.pem'))).mode & 0o777).toBe(0o600);
    const aside = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^\.pre-restore-\d{8}-\d{6}$/);
    expect(await readFile(join(project, 'docker', aside[0], '.env'), 'utf8')).toBe('EDITED=1\n');
    expect(result.stdout).toMatch(/restored secrets: 2 written, 1 moved aside/);
  });

  it('a second restore in the same second never overwrites the first move-aside folder', async () => {
    const project = await makeProject();
    const archive = await backupSecrets(project);
    for (const edit of ['FIRST=1\n', 'SECOND=2\n']) {
      await writeFile(join(project, 'docker/.env'), edit);
      expect((await runCli(['restore', archive, '-y'], { cwd: project })).code).toBe(0);
    }
    const asideFiles = [];
    for (const name of (await readdir(join(project, 'docker'))).filter((entry) => entry.startsWith('.pre-restore-'))) {
      asideFiles.push(await readFile(join(project, 'docker', name, '.env'), 'utf8'));
    }
    expect(asideFiles.sort()).toEqual(['FIRST=1\n', 'SECOND=2\n']);
  });

  it('secret files are restored at most 0600, whatever mode a crafted manifest records', async () => {
    const project = await makeProject({ env: null, keys: false });
    const files = [
      { path: 'secrets/.env', content: 'A=1\n' },
      { path: 'secrets/keys/k.pem', content: 'KEY\n' },
    ];
    const details = {
      secrets: {
        files: [
          { path: '.env', mode: 0o666 },
          { path: 'keys/k.pem', mode: 0o777 },
        ],
      },
    };
    const archive = join(project, 'backups', 'crafted.tar.gz');
    await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifestFor(files, { details })) }, ...files]);
    const result = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(result.code).toBe(0);
    expect((await stat(join(project, 'docker/.env'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(project, 'docker/keys/k.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(project, 'docker/keys'))).mode & 0o077).toBe(0);
  });

  it('an archive holding both keys/a and keys/a/b is refused before .env is touched', async () => {
    const project = await makeProject();
    const files = [
      { path: 'secrets/.env', content: 'FROM_ARCHIVE=1\n' },
      { path: 'secrets/keys/a', content: 'file\n' },
      { path: 'secrets/keys/a/b', content: 'nested\n' },
    ];
    const archive = join(project, 'backups', 'conflict.tar.gz');
    await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifestFor(files)) }, ...files]);
    const before = await snapshotTree(join(project, 'docker'));
    for (const args of [['--dry-run'], ['-y']]) {
      const result = await runCli(['restore', archive, ...args], { cwd: project });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('secrets/keys/a is both a file and the folder of secrets/keys/a/b');
    }
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
  });

  it('a link to a file under docker/keys is backed up as its file and restores; a link to a folder (a loop) is refused', async () => {
    const { symlink, rm } = await import('node:fs/promises');
    const project = await makeProject();
    await symlink('jwt-private.pem', join(project, 'docker/keys/current.pem'));
    const archive = await backupSecrets(project);
    expect(execFileSync('tar', ['xzOf', archive, 'secrets/keys/current.pem'], { encoding: 'utf8' })).toBe(PRIVATE_KEY);
    await rm(join(project, 'docker/keys/current.pem'));
    expect((await runCli(['restore', archive, '-y'], { cwd: project })).code).toBe(0);
    expect(await readFile(join(project, 'docker/keys/current.pem'), 'utf8')).toBe(PRIVATE_KEY);

    await symlink('..', join(project, 'docker/keys/loop'));
    const looped = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
    expect(looped.code).toBe(1);
    expect(looped.stderr).toContain('docker/keys/loop is a link to a folder; secrets follow links to files only.');
    expect(await namesBesideHistory(join(project, 'backups'))).toHaveLength(1);
  });

  it('a secret file named with a backslash refuses the backup with one line naming it (exit 1, no archive), never an unexpected failure', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'docker/keys/odd\\name.pem'), 'key');
    const refused = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('docker/keys/odd\\name.pem has a backslash in its name, which an archive cannot hold.');
    expect(refused.stderr).not.toMatch(/unexpected failure| {4}at /);
    expect(await namesBesideHistory(join(project, 'backups'))).toHaveLength(0);
  });

  it('ORKESTRA_ENV in docker/.env names the archive, like every other setting', async () => {
    const project = await makeProject({ env: 'ORKESTRA_ENV=staging\n' });
    expect(await backupSecrets(project)).toMatch(/orkestra-backup-staging-\d{8}-\d{6}\.tar\.gz$/);
  });

  it('control characters in names from an archive are shown escaped: no screen clearing or forged lines in the dry run, gate, inspect', async () => {
    const project = await makeProject({ env: null, keys: false });
    const evil = 'keys/\x1b[2J\x1b[Hforged\rResult: all fine';
    const files = [{ path: `secrets/${evil}`, content: 'x\n' }];
    const manifest = manifestFor(files, { host: 'host\x1b[31m', environment: 'env\u202e' });
    const archive = join(project, 'backups', 'escapes.tar.gz');
    await writeRawArchive(archive, [{ path: 'manifest.json', content: JSON.stringify(manifest) }, ...files]);
    const runs = [
      await runCli(['restore', archive, '--dry-run'], { cwd: project }),
      await runCli(['restore', archive], { cwd: project, input: 'no\n' }),
      await runCli(['inspect', archive], { cwd: project }),
      await runCli(['verify', archive], { cwd: project }),
    ];
    for (const result of runs) {
      // eslint-disable-next-line no-control-regex -- the point: no escape character may reach the terminal
      expect(result.stdout + result.stderr).not.toMatch(/[\x1b\r\u202e]/);
    }
    expect(runs[0].stdout).toContain('docker/keys/\\u001b[2J\\u001b[Hforged\\u000dResult: all fine: new');
    expect(runs[0].stdout).toContain('on host\\u001b[31m');
    expect(runs[2].stdout).toContain('\\u001b[2J');
  });

  it('-v/--version before or after any command, and help [command], exit 0', async () => {
    const project = await makeProject();
    const versions = await Promise.all(
      [['-v'], ['--version'], ['backup', '-v'], ['restore', '--version'], ['verify', '-v']].map((args) => runCli(args, { cwd: project })),
    );
    for (const result of versions) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
    }
    const help = await runCli(['help'], { cwd: project });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('orkestra-backup help [command]');
    const restoreHelp = await runCli(['help', 'restore'], { cwd: project });
    expect(restoreHelp.stdout).toContain('--no-keep-mongodb');
    expect((await runCli(['help', 'nonsense'], { cwd: project })).code).toBe(2);
  });
});
