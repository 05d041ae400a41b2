import { execFileSync } from 'node:child_process';
import { open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BINARY, runCli, startCli } from '../helpers/cli.js';
import { ageKeyPair, hasAgeCli } from '../helpers/age.js';
import { ENV_TEXT, makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { namesBesideHistory } from '../helpers/history.js';

async function encryptedBackup(project: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli(['backup', '-c', 'secrets', '-y', ...flags], { cwd: project, env });
  expect(result.stderr).toContain('Backup complete');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

async function startsAsGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } catch {
    return false; // a folder, or a file removed meanwhile
  } finally {
    await handle.close();
  }
}

const backupsOf = async (project: string) => namesBesideHistory(join(project, 'backups')).catch(() => [] as string[]);

describe.skipIf(!hasAgeCli)('age-encrypted archives through the binary (interop with the age CLI; skipped without it)', () => {
  it('backup --encrypt-to writes a 0600 .tar.gz.age that age -d turns into the archive, manifest.json first; no secret in the file', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const archive = await encryptedBackup(project, ['--encrypt-to', recipient]);
    expect(archive).toMatch(/\/backups\/orkestra-backup-local-\d{8}-\d{6}\.tar\.gz\.age$/);
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    const bytes = await readFile(archive);
    expect(bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect(bytes.includes('hunter2-secret')).toBe(false);
    const plain = execFileSync('age', ['-d', '-i', identityFile, archive]);
    const listing = execFileSync('tar', ['tz'], { input: plain, encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toBe('manifest.json');
    expect(listing).toContain('secrets/.env');
    expect(execFileSync('tar', ['xzO', 'secrets/.env'], { input: plain, encoding: 'utf8' })).toBe(ENV_TEXT);
  });

  it('-o - with --encrypt-to streams the age file on standard output: age -d | tar tz lists manifest.json first', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const listing = execFileSync(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `"$0" "$1" backup -c secrets -y -o - -r "$2" 2>/dev/null | age -d -i "$3" | tar tz`,
        process.execPath,
        BINARY,
        recipient,
        identityFile,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(listing.split('\n')[0]).toBe('manifest.json');
    expect(listing).toContain('secrets/.env');
  });

  it('an archive the age CLI encrypted (age -r) is verified and restored with --identity', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const plainArchive = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    const sealed = join(project, 'by-age-cli.tar.gz.age');
    execFileSync('age', ['-r', recipient, '-o', sealed, plainArchive]);
    const verified = await runCli(['verify', '-i', identityFile, sealed], { cwd: project });
    expect(verified.stdout).toContain('Result: sound.');
    expect(verified.stdout).toContain('encrypted: age, to 1 X25519 recipient');
    expect(verified.code).toBe(0);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const restored = await runCli(['restore', sealed, '-i', identityFile, '-c', 'secrets', '-y'], { cwd: project });
    expect(restored.code).toBe(0);
    expect(await readFile(join(project, 'docker/.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it('without an identity, or with the wrong one, restore is refused (exit 2) naming what is needed, nothing touched', async () => {
    const project = await makeProject();
    const { recipient } = await ageKeyPair(project);
    const { identityFile: wrongIdentity } = await ageKeyPair(project, 'other-key.txt');
    const archive = await encryptedBackup(project, ['-r', recipient]);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const before = await snapshotTree(project);
    const bare = await runCli(['restore', archive, '-y'], { cwd: project });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/is encrypted \(age, to 1 X25519 recipient\)\. Pass --identity <file>/);
    const wrong = await runCli(['restore', archive, '-y', '--identity', wrongIdentity], { cwd: project });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`no identity in ${wrongIdentity} opens ${archive.split('/').pop()}`);
    expect(wrong.stderr).not.toContain('AGE-SECRET-KEY');
    expect(await snapshotTree(project)).toEqual(before);
  });

  it('a truncated or flipped ciphertext is reported as a damaged archive (exit 2) and restores nothing', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const archive = await encryptedBackup(project, ['-r', recipient]);
    const size = (await stat(archive)).size;
    const cut = join(project, 'cut.tar.gz.age');
    await writeFile(cut, (await readFile(archive)).subarray(0, size - 20));
    const flipped = join(project, 'flipped.tar.gz.age');
    const bytes = await readFile(archive);
    bytes[size - 40] ^= 0x01;
    await writeFile(flipped, bytes);
    await writeFile(join(project, 'docker/.env'), 'EDITED=1\n');
    const before = await snapshotTree(project);
    for (const damaged of [cut, flipped]) {
      const verified = await runCli(['verify', '-i', identityFile, damaged], { cwd: project });
      expect(verified.code).toBe(2);
      expect(verified.stderr).toMatch(/truncated or damaged: chunk 0 of the encrypted payload fails its authentication/);
      const restored = await runCli(['restore', damaged, '-i', identityFile, '-y'], { cwd: project });
      expect(restored.code).toBe(2);
    }
    expect(await snapshotTree(project)).toEqual(before);
    // Cut short by a whole chunk's worth would still parse: the size rule refuses what cannot be an age payload at all.
    await truncate(cut, size - 300);
    expect((await runCli(['verify', '-i', identityFile, cut], { cwd: project })).code).toBe(2);
  });

  it('--passphrase-file encrypts with scrypt; the same file opens it, another passphrase is refused', async () => {
    const project = await makeProject();
    await writeFile(join(project, 'pass.txt'), 'correct horse battery staple\n', { mode: 0o600 });
    await writeFile(join(project, 'wrong.txt'), 'tr0ub4dor\n', { mode: 0o600 });
    const archive = await encryptedBackup(project, ['--passphrase-file', join(project, 'pass.txt')]);
    const header = (await readFile(archive)).subarray(0, 200).toString('latin1');
    expect(header).toMatch(/^age-encryption\.org\/v1\n-> scrypt /);
    expect((await runCli(['verify', '--passphrase-file', join(project, 'pass.txt'), archive], { cwd: project })).stdout).toContain(
      'Result: sound.',
    );
    const wrong = await runCli(['verify', '--passphrase-file', join(project, 'wrong.txt'), archive], { cwd: project });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('the passphrase does not open');
    expect(wrong.stderr).not.toContain('tr0ub4dor');
    // No terminal and no passphrase file: refused with what to do, not a hang.
    const none = await runCli(['verify', archive], { cwd: project });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('is encrypted with a passphrase. Run on a terminal to be asked for it, or pass --passphrase-file');
  });

  it('recipients and identity come from settings too (docker/.env, environment)', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    await writeFile(join(project, 'recipients.txt'), `# backup key\n\n${recipient}\n`);
    await writeFile(join(project, 'docker/.env'), `${ENV_TEXT}ORKESTRA_BACKUP_RECIPIENTS_FILE=${join(project, 'recipients.txt')}\n`);
    const archive = await encryptedBackup(project, []);
    expect(archive).toMatch(/\.tar\.gz\.age$/);
    const verified = await runCli(['verify', archive], { cwd: project, env: { ORKESTRA_BACKUP_IDENTITY: identityFile } });
    expect(verified.stdout).toContain('Result: sound.');
  });

  it('bad encryption input is refused with one line and exit 2, writing nothing', async () => {
    const project = await makeProject();
    const { recipient } = await ageKeyPair(project);
    await writeFile(join(project, 'empty-recipients.txt'), '# nobody yet\n');
    await writeFile(join(project, 'empty-pass.txt'), '', { mode: 0o600 });
    await writeFile(join(project, 'bad-identity.txt'), 'not a key\n', { mode: 0o600 });
    const cases: [string[], RegExp][] = [
      [['-r', 'age1notakey'], /--encrypt-to: "age1notakey" is not an age recipient/],
      [['-R', join(project, 'empty-recipients.txt')], /the recipients file .*empty-recipients\.txt holds no recipient/],
      [['--passphrase-file', join(project, 'empty-pass.txt')], /the passphrase file .*empty-pass\.txt is empty/],
      [['-R', join(project, 'missing.txt')], /cannot read the recipients file .*missing\.txt \(ENOENT\)/],
      [['-r', recipient, '--passphrase-file', join(project, 'pass.txt')], /either to recipients or with a passphrase, not both/],
      [['-r', recipient, '-o', join(project, 'x.tar.gz')], /does not end in \.age, but the archive is encrypted/],
      [['-o', join(project, 'x.tar.gz.age')], /ends in \.age, but no encryption was asked for/],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(['backup', '-c', 'secrets', '-y', ...flags], { cwd: project });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.code).toBe(2);
    }
    expect(await backupsOf(project)).toEqual([]);
    const plain = (await runCli(['backup', '-c', 'secrets', '-y'], { cwd: project })).stdout.trim();
    const badIdentity = await runCli(['verify', '-i', join(project, 'bad-identity.txt'), plain], { cwd: project });
    // A plain archive needs no key: the identity file is read only when an archive is encrypted.
    expect(badIdentity.code).toBe(0);
    const sealed = await encryptedBackup(project, ['-r', recipient]);
    const refused = await runCli(['verify', '-i', join(project, 'bad-identity.txt'), sealed], { cwd: project });
    expect(refused.stderr).toMatch(/bad-identity\.txt line 1 is not an age identity/);
    expect(refused.stderr).not.toContain('not a key');
    expect(refused.code).toBe(2);
  });

  it('list shows archives no key opens as ENCRYPTED, not broken; prune keeps and removes them, with their records, without any key', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const first = await encryptedBackup(project, ['-r', recipient]);
    const second = await encryptedBackup(project, ['-r', recipient]);
    const listed = JSON.parse((await runCli(['list', '--json'], { cwd: project })).stdout) as {
      archives: { name: string; sound: boolean; locked?: string; encrypted: boolean }[];
    };
    expect(listed.archives.map((archive) => archive.sound)).toEqual([true, true]);
    expect(listed.archives.every((archive) => archive.encrypted && archive.locked?.includes('encrypted'))).toBe(true);
    const opened = await runCli(['list', '-i', identityFile], { cwd: project });
    expect(opened.stdout).toMatch(/\.tar\.gz\.age .* local {2}\d{4}-\d\d-\d\dT.* secrets/);
    const pruned = await runCli(['prune', join(project, 'backups'), '--keep-last', '1', '--remove-broken'], { cwd: project });
    expect(pruned.code).toBe(0);
    const left = await backupsOf(project);
    // The newer one and its record; the older one went with its record.
    expect(left.sort()).toEqual([second.split('/').pop(), `${second.split('/').pop()}.record.json`]);
    expect(left).not.toContain(first.split('/').pop());
  });

  it('no plaintext touches the disk while encrypting: no working file in the output or temp folder is ever gzip (the same watch sees the plain run’s)', async () => {
    const project = await makeProject();
    const { recipient } = await ageKeyPair(project);
    // 48 MB of compressible lines: a body that takes a few seconds to write.
    const big = await open(join(project, 'docker/keys/big.pem'), 'w');
    const line = Buffer.from(`${'secret-material-'.repeat(8)}\n`);
    for (let index = 0; index < 48; index += 1) await big.write(Buffer.concat(Array.from({ length: (1 << 20) / line.length }, () => line)));
    await big.close();
    const temp = await temporaryFolder('orkestra-tmpdir-');
    const seenGzip = async (flags: string[]) => {
      const watched = [join(project, 'backups'), temp];
      const running = startCli(['backup', '-c', 'secrets', '-y', ...flags], { cwd: project, env: { TMPDIR: temp } });
      let done = false;
      const result = running.result.finally(() => (done = true));
      const gzipFiles = new Set<string>();
      let looks = 0;
      while (!done) {
        for (const folder of watched) {
          for (const name of await readdir(folder, { recursive: true }).catch(() => [] as string[])) {
            looks += 1;
            if (await startsAsGzip(join(folder, name))) gzipFiles.add(name);
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect((await result).code).toBe(0);
      expect(looks).toBeGreaterThan(0);
      // Working files only: hidden ones beside the archive, anything under TMPDIR (the plain run's finished archive is gzip, of course).
      return [...gzipFiles].filter((name) => name.startsWith('.') || name.includes('/'));
    };
    expect(await seenGzip(['-r', recipient])).toEqual([]);
    // The watch is real: a plain backup's hidden body file is gzip while it is written.
    expect((await seenGzip([])).length).toBeGreaterThan(0);
  });
});
