import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { backupSealing, SECRETS_SEALING, settingsKeyring } from '../../src/core/archiveKeys.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const settings = (values: Record<string, string>) => (key: string) => values[key];

describe('encryption settings', () => {
  it('recipients from the setting (commas or spaces) and from files (comments and blank lines skipped) are combined', async () => {
    const folder = await temporaryFolder('keys-');
    const [a, b, c] = await Promise.all([1, 2, 3].map(async () => identityToRecipient(await generateIdentity())));
    await writeFile(join(folder, 'recipients.txt'), `# team key\n\n${c}\n`);
    const sealing = await backupSealing(
      settings({ ORKESTRA_BACKUP_RECIPIENTS: `${a}, ${b}`, ORKESTRA_BACKUP_RECIPIENTS_FILE: join(folder, 'recipients.txt') }),
    );
    expect(sealing).toEqual({ recipients: [a, b, c] });
    expect(await backupSealing(settings({}))).toBeUndefined();
  });

  it('the secrets archive has its own recipients; it never takes the data archive’s passphrase setting', async () => {
    const recipient = await identityToRecipient(await generateIdentity());
    const values = settings({ ORKESTRA_BACKUP_SECRETS_RECIPIENTS: recipient, ORKESTRA_BACKUP_PASSPHRASE_FILE: '/nonexistent' });
    expect(await backupSealing(values, SECRETS_SEALING)).toEqual({ recipients: [recipient] });
  });

  it('a passphrase file is its first line; with recipients too it is refused', async () => {
    const folder = await temporaryFolder('keys-');
    await writeFile(join(folder, 'pass'), 'open sesame\nignored second line\n', { mode: 0o600 });
    expect(await backupSealing(settings({ ORKESTRA_BACKUP_PASSPHRASE_FILE: join(folder, 'pass') }))).toEqual({ passphrase: 'open sesame' });
    const recipient = await identityToRecipient(await generateIdentity());
    await expect(
      backupSealing(settings({ ORKESTRA_BACKUP_PASSPHRASE_FILE: join(folder, 'pass'), ORKESTRA_BACKUP_RECIPIENTS: recipient })),
    ).rejects.toThrow(/either to recipients or with a passphrase, not both/);
  });

  it('the keyring reads identity files only when asked, and asks for a passphrase at most once', async () => {
    const folder = await temporaryFolder('keys-');
    const identity = await generateIdentity();
    await writeFile(join(folder, 'one.txt'), `# created by age-keygen\n${identity}\n`, { mode: 0o600 });
    let asked = 0;
    const keyring = settingsKeyring(
      settings({ ORKESTRA_BACKUP_IDENTITY: `${join(folder, 'one.txt')}\n${join(folder, 'missing.txt')}` }),
      async () => {
        asked += 1;
        return 'typed';
      },
    );
    expect(keyring.identityFiles).toEqual([join(folder, 'one.txt'), join(folder, 'missing.txt')]);
    await expect(keyring.identities()).rejects.toThrow(/cannot read the identity file .*missing\.txt \(ENOENT\)/);
    expect(await keyring.passphrase()).toBe('typed');
    expect(await keyring.passphrase()).toBe('typed');
    expect(asked).toBe(1);
    const single = settingsKeyring(settings({ ORKESTRA_BACKUP_IDENTITY: join(folder, 'one.txt') }));
    expect(await single.identities()).toEqual([identity]);
    expect(await single.passphrase()).toBeUndefined();
  });
});
