import type { Keyring, Sealing } from '../age/header.js';
import { checkRecipient, readIdentityFile, readPassphraseFile, readRecipientsFile } from '../age/keyFiles.js';
import { UsageError } from '../base/errors.js';

/**
 * The settings that say how archives are encrypted and opened. Flags set them too
 * (`--encrypt-to` → ORKESTRA_BACKUP_RECIPIENTS, …); a repeated flag's values are joined by line
 * breaks, and a setting in docker/.env may list several recipients separated by commas or spaces.
 */
export const KEY_SETTINGS = {
  recipients: 'ORKESTRA_BACKUP_RECIPIENTS',
  recipientsFile: 'ORKESTRA_BACKUP_RECIPIENTS_FILE',
  passphraseFile: 'ORKESTRA_BACKUP_PASSPHRASE_FILE',
  identity: 'ORKESTRA_BACKUP_IDENTITY',
  secretsRecipients: 'ORKESTRA_BACKUP_SECRETS_RECIPIENTS',
  secretsRecipientsFile: 'ORKESTRA_BACKUP_SECRETS_RECIPIENTS_FILE',
} as const;

type Setting = (key: string) => string | undefined;

/** Several paths in one setting: one per line (what repeated flags become). */
function pathList(value: string | undefined): string[] {
  return (value ?? '')
    .split('\n')
    .map((path) => path.trim())
    .filter((path) => path !== '');
}

/** Where one archive's encryption is set: the data archive's, or the separate secrets archive's (--split-secrets). */
export interface SealingSettings {
  readonly recipients: string;
  readonly recipientsFile: string;
  readonly passphraseFile?: string;
  /** The flag that sets `recipients`, for messages. */
  readonly recipientsFlag: string;
}

export const ARCHIVE_SEALING: SealingSettings = {
  recipients: KEY_SETTINGS.recipients,
  recipientsFile: KEY_SETTINGS.recipientsFile,
  passphraseFile: KEY_SETTINGS.passphraseFile,
  recipientsFlag: '--encrypt-to',
};

/** The secrets archive of a split backup: its own recipients, else the data archive's encryption. */
export const SECRETS_SEALING: SealingSettings = {
  recipients: KEY_SETTINGS.secretsRecipients,
  recipientsFile: KEY_SETTINGS.secretsRecipientsFile,
  recipientsFlag: '--secrets-encrypt-to',
};

/**
 * How a new archive is encrypted, from the settings; undefined when it is not. Every recipient is
 * checked here, before anything is made.
 */
export async function backupSealing(setting: Setting, names: SealingSettings = ARCHIVE_SEALING): Promise<Sealing | undefined> {
  const recipients: string[] = [];
  for (const recipient of (setting(names.recipients) ?? '').split(/[\s,]+/).filter((text) => text !== '')) {
    recipients.push(await checkRecipient(recipient, names.recipientsFlag));
  }
  for (const file of pathList(setting(names.recipientsFile))) recipients.push(...(await readRecipientsFile(file)));
  const passphraseFile = names.passphraseFile && setting(names.passphraseFile);
  if (passphraseFile && recipients.length > 0) {
    throw new UsageError('an archive is encrypted either to recipients or with a passphrase, not both.', {
      hint: 'Drop --passphrase-file (ORKESTRA_BACKUP_PASSPHRASE_FILE) or the recipients. Nothing was written.',
    });
  }
  if (passphraseFile) return { passphrase: await readPassphraseFile(passphraseFile) };
  return recipients.length > 0 ? { recipients } : undefined;
}

/**
 * What opens encrypted archives: the identity files of --identity / ORKESTRA_BACKUP_IDENTITY
 * (read on first need), and a passphrase from --passphrase-file or, failing that, asked once by
 * `askPassphrase` (a terminal prompt; absent in CI and the interactive interface).
 */
export function settingsKeyring(setting: Setting, askPassphrase?: () => Promise<string | undefined>): Keyring {
  const identityFiles = pathList(setting(KEY_SETTINGS.identity));
  let identities: Promise<string[]> | undefined;
  let passphrase: Promise<string | undefined> | undefined;
  return {
    identityFiles,
    identities() {
      identities ??= Promise.all(identityFiles.map(readIdentityFile)).then((lists) => lists.flat());
      return identities;
    },
    passphrase() {
      const file = setting(KEY_SETTINGS.passphraseFile);
      passphrase ??= file ? readPassphraseFile(file) : (askPassphrase?.() ?? Promise.resolve(undefined));
      return passphrase;
    },
  };
}
