import { existsSync } from 'node:fs';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifestFor, readTarBytes, writeRawArchive, writeTarBytes } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

/**
 * Every bad input ends with exit 2, a one-line message that names the problem, and docker/
 * byte-for-byte unchanged. The project's .env differs from the archive's, so a restore that
 * went ahead would change it.
 */
let project: string;
let goodArchive: string;

beforeAll(async () => {
  project = await makeProject();
  const backup = await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project });
  expect(backup.code).toBe(0);
  goodArchive = backup.stdout.trim();
  await writeFile(join(project, 'docker/.env'), 'CHANGED_SINCE_BACKUP=1\n');
});

async function expectRefused(args: string[], message: RegExp): Promise<void> {
  const before = await snapshotTree(join(project, 'docker'));
  const result = await runCli(args, { cwd: project });
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(2);
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('orkestra-backup:'));
  expect(errorLines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
  expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
}

async function craft(name: string, entries: Parameters<typeof writeRawArchive>[1]): Promise<string> {
  const file = join(project, 'backups', name);
  await writeRawArchive(file, entries);
  return file;
}

function manifestEntry(manifest: object) {
  return { path: 'manifest.json', content: JSON.stringify(manifest) };
}

describe('bad input is refused with exit 2 and nothing touched', () => {
  it('unknown component on backup lists the valid ones', async () => {
    await expectRefused(['backup', '-c', 'secrets,mongo', '-y'], /unknown component: mongo\. Valid components: .*secrets/);
  });

  it('unknown component on restore lists the valid ones', async () => {
    await expectRefused(['restore', goodArchive, '-c', 'postgres', '--dry-run'], /unknown component: postgres\. Valid components:/);
  });

  it('a component not in the manifest', async () => {
    await expectRefused(['restore', goodArchive, '-c', 'mongodb', '-y'], /mongodb is not in .*It holds: secrets/);
  });

  it('restore without --yes and without a TTY', async () => {
    await expectRefused(['restore', goodArchive], /a real restore needs --yes when stdin is not a terminal/);
  });

  it('backup without --yes and without a TTY', async () => {
    await expectRefused(['backup', 'all'], /--yes is required when stdin is not a terminal/);
  });

  it('no arguments without a TTY says what to pass', async () => {
    await expectRefused([], /no command given.*backup all --yes/);
    await expectRefused(['backup'], /nothing to back up: pass "all" or --components/);
    await expectRefused(['restore'], /restore needs the path of an archive/);
  });

  it('an unknown flag', async () => {
    await expectRefused(['restore', goodArchive, '--force'], /unknown option --force/);
  });

  it('an --output whose folder does not exist: refused, and no folder is made', async () => {
    const output = join(project, 'no-such-dir', 'deeper', 'x.tar.gz');
    await expectRefused(
      ['backup', '-c', 'secrets', '-y', '-o', output],
      /the folder of --output .*no-such-dir\/deeper\/x\.tar\.gz does not exist/,
    );
    expect(existsSync(join(project, 'no-such-dir'))).toBe(false);
  });

  it('an unknown flag with --json answers in JSON too', async () => {
    const result = await runCli(['restore', goodArchive, '--force', '--json'], { cwd: project });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, error: expect.stringContaining('unknown option --force'), exitCode: 2 });
  });

  it('--strict goes with backup all only', async () => {
    await expectRefused(['backup', '-c', 'secrets', '--strict', '-y'], /--strict goes with "backup all"/);
  });

  it('a missing archive file', async () => {
    await expectRefused(['restore', join(project, 'nope.tar.gz'), '-y'], /nope\.tar\.gz: no such file/);
  });

  it('a tampered file fails its checksum', async () => {
    const tar = await readTarBytes(goodArchive);
    const at = tar.indexOf('hunter2-secret');
    tar[at] = 'H'.charCodeAt(0);
    const file = join(project, 'backups', 'tampered.tar.gz');
    await writeTarBytes(file, tar);
    await expectRefused(['restore', file, '-y'], /secrets\/\.env fails its SHA-256 checksum/);
  });

  it('a truncated archive', async () => {
    const file = join(project, 'backups', 'truncated.tar.gz');
    await copyFile(goodArchive, file);
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size * 0.7));
    await expectRefused(['restore', file, '-y'], /truncated or damaged/);
  });

  it('a file that is not a tarball', async () => {
    const file = join(project, 'backups', 'notes.tar.gz');
    await writeFile(file, 'just some text, not an archive\n');
    await expectRefused(['restore', file, '--dry-run'], /notes\.tar\.gz is not a \.tar\.gz archive/);
  });

  it('an unknown schema', async () => {
    const env = 'A=1\n';
    const manifest = manifestFor([{ path: 'secrets/.env', content: env }], { schema: 'acme-backup/v3' });
    const file = await craft('schema.tar.gz', [manifestEntry(manifest), { path: 'secrets/.env', content: env }]);
    await expectRefused(['restore', file, '-y'], /unknown manifest schema "acme-backup\/v3"/);
  });

  it('a newer major schema', async () => {
    const manifest = manifestFor([], { schema: 'orkestra-backup/v2' });
    const file = await craft('newer.tar.gz', [manifestEntry(manifest)]);
    await expectRefused(['restore', file, '--dry-run'], /newer orkestra-backup .*Upgrade/);
  });

  it('a manifest field of the wrong type', async () => {
    const file = await craft('types.tar.gz', [manifestEntry({ ...manifestFor([]), components: 'secrets' })]);
    await expectRefused(['restore', file, '--dry-run'], /field "components" is invalid/);
  });

  it('a file listed in the manifest but missing', async () => {
    const manifest = manifestFor([
      { path: 'secrets/.env', content: 'A=1\n' },
      { path: 'secrets/keys/a.pem', content: 'k' },
    ]);
    const file = await craft('missing.tar.gz', [manifestEntry(manifest), { path: 'secrets/.env', content: 'A=1\n' }]);
    await expectRefused(['restore', file, '-y'], /secrets\/keys\/a\.pem is listed in the manifest but missing/);
  });

  it('a file hidden in the archive but not in the manifest', async () => {
    const manifest = manifestFor([{ path: 'secrets/.env', content: 'A=1\n' }]);
    const file = await craft('extra.tar.gz', [
      manifestEntry(manifest),
      { path: 'secrets/.env', content: 'A=1\n' },
      { path: 'secrets/keys/sneaky.pem', content: 'x' },
    ]);
    await expectRefused(['restore', file, '-y'], /secrets\/keys\/sneaky\.pem is in the archive but not in the manifest/);
  });

  it.each([
    ['a ".." path', { path: 'secrets/../../evil', content: 'x' }, /unsafe entry: path escaping its folder/],
    ['an absolute path', { path: '/tmp/evil', content: 'x' }, /unsafe entry: absolute path/],
    [
      'a symlink',
      { path: 'secrets/keys/link', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' },
      /secrets\/keys\/link is a SymbolicLink/,
    ],
    ['a hard link', { path: 'secrets/keys/hard', type: 'Link' as const, linkpath: 'secrets/.env' }, /secrets\/keys\/hard is a Link/],
  ])('an entry that would land outside its target: %s', async (_, entry, message) => {
    const manifest = manifestFor([{ path: 'secrets/.env', content: 'A=1\n' }]);
    const file = await craft('escape.tar.gz', [manifestEntry(manifest), { path: 'secrets/.env', content: 'A=1\n' }, entry]);
    await expectRefused(['restore', file, '-y'], message);
  });

  it('a secrets file that is neither .env nor a key', async () => {
    const manifest = manifestFor([{ path: 'secrets/docker-compose.yml', content: 'services: {}\n' }]);
    const file = await craft('compose.tar.gz', [
      manifestEntry(manifest),
      { path: 'secrets/docker-compose.yml', content: 'services: {}\n' },
    ]);
    await expectRefused(['restore', file, '-y'], /secrets\/docker-compose\.yml is neither docker\/\.env nor under docker\/keys/);
  });
});
