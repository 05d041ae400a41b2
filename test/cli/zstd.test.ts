import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageKeyPair, hasAgeCli } from '../helpers/age.js';
import { manifestFor, readTarBytes, writeRawArchive } from '../helpers/archives.js';
import { expectNoStackTrace, runCli } from '../helpers/cli.js';
import { engineEnv, imageMode } from '../helpers/engine.js';
import { offsiteEnv, startOffsiteServer, type OffsiteServer } from '../helpers/offsite.js';
import { ENV_TEXT, makeProject, snapshotTree } from '../helpers/project.js';
import { s3Client } from '../helpers/s3.js';
import { namesBesideHistory } from '../helpers/history.js';

const zstdSync = zlib as unknown as { zstdCompressSync(bytes: Buffer): Buffer };
const CONFIG = { components: { spool: { kind: 'directory', path: 'docker/spool' } } };
/** Two and a half megabytes of mixed data: several zstd frames, some stored, some compressed. */
const RANDOM = randomBytes(1536 * 1024);
const TEXT = Buffer.from('tenant-4711 invoice-99 billing\n'.repeat(32_000));

/** A project with secrets and a declared directory component holding a few megabytes. */
async function spoolProject(): Promise<string> {
  const project = await makeProject();
  await writeFile(join(project, 'orkestra-backup.json'), JSON.stringify(CONFIG));
  await mkdir(join(project, 'docker/spool/inner'), { recursive: true });
  await writeFile(join(project, 'docker/spool/inner/random.bin'), RANDOM);
  await writeFile(join(project, 'docker/spool/text.txt'), TEXT);
  return project;
}

async function zstdBackup(project: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli(['backup', '-c', 'secrets,spool', '-y', '--compression', 'zstd', ...extra], { cwd: project, env });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n')[0];
}

describe('zstd archives through the binary (backup --compression zstd)', () => {
  let project: string;
  let archive: string;
  beforeAll(async () => {
    project = await spoolProject();
    archive = await zstdBackup(project);
  });

  it('writes a multi-frame .tar.zst that zstd and tar read, manifest first; list, inspect, verify and restore --dry-run read it', async () => {
    expect(archive).toMatch(/\/backups\/orkestra-backup-local-\d{8}-\d{6}\.tar\.zst$/);
    const bytes = await readFile(archive);
    expect(bytes.readUInt32LE(0)).toBe(0xfd2fb528);
    const listing = execFileSync('tar', ['--zstd', '-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.slice(0, 3)).toEqual(['manifest.json', 'index/secrets.jsonl', 'index/spool.jsonl']);

    const list = JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout) as { archives: Record<string, unknown>[] };
    expect(list.archives).toEqual([expect.objectContaining({ file: archive, sound: true, components: ['secrets', 'spool'] })]);
    const inspect = await runCli(['inspect', archive], { cwd: project });
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/docker\/spool {2}2 files/);
    const verify = await runCli(['verify', archive], { cwd: project });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('Result: sound.');
    const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain('Result: all 2 components can be restored. Nothing was changed.');
  });

  it('restore puts every byte back', async () => {
    await writeFile(join(project, 'docker/spool/text.txt'), 'changed');
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const restored = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(restored.code, restored.stderr).toBe(0);
    expect((await readFile(join(project, 'docker/spool/inner/random.bin'))).equals(RANDOM)).toBe(true);
    expect((await readFile(join(project, 'docker/spool/text.txt'))).equals(TEXT)).toBe(true);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it.skipIf(imageMode === 'none')('drill restores it into a throwaway copy on the engine and passes', async () => {
    const drill = await runCli(['drill', archive], { cwd: project, env: engineEnv() });
    expect(drill.code, drill.stdout + drill.stderr).toBe(0);
    expect(drill.stdout).toContain('Drill PASSED');
  });

  it('a truncated or corrupted .tar.zst is found unsound by verify (exit 1) saying what is wrong, and restores nothing', async () => {
    const whole = await readFile(archive);
    const folder = join(project, 'damaged');
    await mkdir(folder, { recursive: true });
    const cut = join(folder, 'cut.tar.zst');
    await writeFile(cut, whole);
    await truncate(cut, whole.length - 3000);
    const cutVerify = await runCli(['verify', cut], { cwd: project });
    expect(cutVerify.code).toBe(1);
    expect(cutVerify.stdout).toContain('the archive is truncated or damaged (the zstd stream ends inside a zstd frame, after');
    expect(cutVerify.stdout).toContain('does not match its manifest: cut short or extended');
    expectNoStackTrace(cutVerify.stderr);

    const flipped = Buffer.from(whole);
    for (let offset = Math.floor(whole.length / 2); offset < whole.length / 2 + 64; offset += 1) flipped[offset] ^= 0xa5;
    const corrupt = join(folder, 'corrupt.tar.zst');
    await writeFile(corrupt, flipped);
    const corruptVerify = await runCli(['verify', corrupt], { cwd: project });
    expect(corruptVerify.code).toBe(1);
    expect(corruptVerify.stdout).toMatch(/truncated or damaged|fails its SHA-256 checksum/);
    expectNoStackTrace(corruptVerify.stderr);
    const before = await snapshotTree(join(project, 'docker'));
    const restore = await runCli(['restore', corrupt, '-y'], { cwd: project });
    expect(restore.code).not.toBe(0);
    expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
  });

  it('a bad --compression, or an --output named for the other compression, is one line and exit 2, nothing written', async () => {
    const cases: [string[], string][] = [
      [['--compression', 'zstd:20'], '--compression zstd:20: the zstd level must be 1 to 19.'],
      [['--compression', 'brotli'], '--compression brotli: unknown compression.'],
      [['--compression', 'zstd', '-o', join(project, 'x.tar.gz')], 'names a gzip archive, but the backup is compressed with zstd'],
      [['-o', join(project, 'x.tar.zst')], 'names a zstd archive, but the backup is compressed with gzip'],
    ];
    const before = await readdir(join(project, 'backups'));
    for (const [args, message] of cases) {
      const result = await runCli(['backup', '-c', 'secrets', '-y', ...args], { cwd: project });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await readdir(join(project, 'backups'))).toEqual(before);
  });
});

describe('zstd archives among others: split secrets, age, prune', () => {
  it('--split-secrets writes …-secrets.tar.zst beside the data .tar.zst; restore --secrets reads the pair', async () => {
    const project = await spoolProject();
    const result = await runCli(['backup', '-c', 'secrets,spool', '-y', '--compression', 'zstd:1', '--split-secrets'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const names = (await namesBesideHistory(join(project, 'backups'))).sort();
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^orkestra-backup-local-\d{8}-\d{6}-secrets\.tar\.zst$/);
    expect(names[1]).toMatch(/^orkestra-backup-local-\d{8}-\d{6}\.tar\.zst$/);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const [secrets, data] = names.map((name) => join(project, 'backups', name));
    const restored = await runCli(['restore', data, '--secrets', secrets, '-y'], { cwd: project });
    expect(restored.code, restored.stderr).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it('an age-encrypted .tar.zst.age: age -d gives the zstd archive; verify and restore open it with --identity', async () => {
    const project = await spoolProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const sealed = await zstdBackup(project, ['-r', recipient]);
    expect(sealed).toMatch(/\.tar\.zst\.age$/);
    if (hasAgeCli) {
      const plain = execFileSync('age', ['-d', '-i', identityFile, sealed], { maxBuffer: 64 * 1024 * 1024 });
      expect(plain.readUInt32LE(0)).toBe(0xfd2fb528);
    }
    const verified = await runCli(['verify', sealed, '-i', identityFile], { cwd: project });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('Result: sound.');
    await rm(join(project, 'docker/spool/text.txt'));
    const restored = await runCli(['restore', sealed, '-i', identityFile, '-y'], { cwd: project });
    expect(restored.code, restored.stderr).toBe(0);
    expect((await readFile(join(project, 'docker/spool/text.txt'))).equals(TEXT)).toBe(true);
  });

  it('prune counts .tar.zst archives with the .tar.gz ones: --keep-last 2 keeps the two newest of either kind', async () => {
    const project = await makeProject();
    const folder = join(project, 'backups');
    const envFile = { path: 'secrets/.env', content: 'A=1\n' };
    const at = async (stamp: string, createdAt: string, zstd: boolean) => {
      const name = `orkestra-backup-local-${stamp}.tar.gz`;
      const manifest = manifestFor([envFile], { environment: 'local', createdAt });
      await writeRawArchive(join(folder, name), [{ path: 'manifest.json', content: JSON.stringify(manifest) }, envFile]);
      if (!zstd) return name;
      const zstdName = name.replace(/\.tar\.gz$/, '.tar.zst');
      await writeFile(join(folder, zstdName), zstdSync.zstdCompressSync(await readTarBytes(join(folder, name))));
      await rm(join(folder, name));
      return zstdName;
    };
    const oldest = await at('20261120-030000', '2026-11-20T03:00:00Z', true);
    const middle = await at('20261121-030000', '2026-11-21T03:00:00Z', false);
    const newest = await at('20261122-030000', '2026-11-22T03:00:00Z', true);
    const listed = JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout) as {
      archives: { name: string; sound: boolean }[];
    };
    expect(listed.archives.map((archive) => [archive.name, archive.sound])).toEqual([
      [newest, true],
      [middle, true],
      [oldest, true],
    ]);
    const pruned = await runCli(['prune', folder, '--keep-last', '2'], { cwd: project });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect((await namesBesideHistory(folder)).sort()).toEqual([middle, newest].sort());
    await rename(join(folder, newest), join(folder, 'renamed-without-extension'));
    expect(JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout).archives).toHaveLength(1);
  });
});

describe('zstd archives to and from s3:// (fauxqs)', () => {
  let server: OffsiteServer;
  beforeAll(async () => {
    server = await startOffsiteServer(['offsite']);
  });
  afterAll(() => server?.stop());

  it('a .tar.zst uploaded to s3://bucket/prefix/ is listed, verified and restored from there', async () => {
    const project = await spoolProject();
    const env = offsiteEnv(server);
    const url = await zstdBackup(project, ['-o', 's3://offsite/zstd/'], env);
    expect(url).toMatch(/^s3:\/\/offsite\/zstd\/orkestra-backup-local-\d{8}-\d{6}\.tar\.zst$/);
    expect(await server.openUploads()).toEqual([]);
    const client = s3Client(server.endpoint, 'a', 'b');
    const object = await client.send(new GetObjectCommand({ Bucket: 'offsite', Key: url.slice('s3://offsite/'.length) }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).readUInt32LE(0)).toBe(0xfd2fb528);
    client.destroy();
    const listed = JSON.parse((await runCli(['list', 's3://offsite/zstd/', '--json'], { cwd: project, env })).stdout) as {
      archives: Record<string, unknown>[];
    };
    expect(listed.archives).toEqual([expect.objectContaining({ file: url, sound: true })]);
    const verify = await runCli(['verify', url], { cwd: project, env });
    expect(verify.code, verify.stderr).toBe(0);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    await writeFile(join(project, 'docker/spool/text.txt'), 'EDITED');
    const restore = await runCli(['restore', url, '-y'], { cwd: project, env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await readFile(join(project, 'docker/spool/text.txt'))).toEqual(TEXT);
  });
});
