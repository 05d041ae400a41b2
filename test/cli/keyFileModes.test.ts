import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { readIdentityFile, readPassphraseFile, readRecipientsFile } from '../../src/age/keyFiles.js';
import { runCli } from '../helpers/cli.js';
import { ageKeyPair } from '../helpers/age.js';
import { makeProject, snapshotTree } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

describe('identity and passphrase files open to other users are refused, as ssh refuses such a key', () => {
  it.each([0o644, 0o640, 0o604, 0o620, 0o660])(
    'an identity file and a passphrase file of mode %o are refused, naming the file and chmod 600',
    async (mode) => {
      const folder = await temporaryFolder('key-modes-');
      const identityFile = join(folder, 'key.txt');
      const passphraseFile = join(folder, 'pass.txt');
      await writeFile(identityFile, `${await generateIdentity()}\n`);
      await writeFile(passphraseFile, 'open sesame\n');
      await chmod(identityFile, mode);
      await chmod(passphraseFile, mode);
      const shown = mode.toString(8).padStart(4, '0');
      await expect(readIdentityFile(identityFile)).rejects.toThrow(
        `the identity file ${identityFile} is open to other users (mode ${shown}); a secret key file must be private to its owner.`,
      );
      await expect(readPassphraseFile(passphraseFile)).rejects.toMatchObject({
        hint: `Run chmod 600 ${passphraseFile} and try again. Nothing was touched.`,
      });
      await chmod(identityFile, 0o600);
      await chmod(passphraseFile, 0o400);
      expect(await readIdentityFile(identityFile)).toHaveLength(1);
      expect(await readPassphraseFile(passphraseFile)).toBe('open sesame');
    },
  );

  it('a recipients file holds public keys: any mode is accepted', async () => {
    const folder = await temporaryFolder('key-modes-');
    const recipient = await identityToRecipient(await generateIdentity());
    await writeFile(join(folder, 'recipients.txt'), `${recipient}\n`);
    await chmod(join(folder, 'recipients.txt'), 0o644);
    expect(await readRecipientsFile(join(folder, 'recipients.txt'))).toEqual([recipient]);
  });

  it('verify -i with a world-readable identity and backup --passphrase-file with a group-readable file: exit 2, one line, nothing written', async () => {
    const project = await makeProject();
    const { identityFile, recipient } = await ageKeyPair(project);
    const sealed = await runCli(['backup', '-c', 'secrets', '-y', '-r', recipient], { cwd: project });
    expect(sealed.code, sealed.stderr).toBe(0);
    await chmod(identityFile, 0o644);
    const verify = await runCli(['verify', '-i', identityFile, sealed.stdout.trim()], { cwd: project });
    expect(verify.code).toBe(2);
    expect(verify.stderr.trim().split('\n')).toEqual([
      `orkestra-backup: the identity file ${identityFile} is open to other users (mode 0644); a secret key file must be private to its owner. ` +
        `Run chmod 600 ${identityFile} and try again. Nothing was touched.`,
    ]);

    const passphraseFile = join(project, 'pass.txt');
    await writeFile(passphraseFile, 'correct horse\n');
    await chmod(passphraseFile, 0o640);
    const before = await snapshotTree(project);
    const backup = await runCli(['backup', '-c', 'secrets', '-y', '--passphrase-file', passphraseFile], { cwd: project });
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain(`the passphrase file ${passphraseFile} is open to other users (mode 0640)`);
    expect(backup.stderr).toContain(`Run chmod 600 ${passphraseFile}`);
    expect(await snapshotTree(project)).toEqual(before);
  });
});
