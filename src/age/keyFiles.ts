import { open } from 'node:fs/promises';
import { agePackage } from './package.js';
import { UsageError } from '../base/errors.js';

/** An age recipient (`age1…`), checked by the package: a typo fails here, before anything is made. Recipients are public keys, so the message may show them. */
export async function checkRecipient(recipient: string, where: string): Promise<string> {
  const { Encrypter } = await agePackage();
  try {
    new Encrypter().addRecipient(recipient);
    return recipient;
  } catch {
    throw new UsageError(`${where}: "${recipient}" is not an age recipient.`, {
      hint: 'An age recipient starts with age1 (from age-keygen -y). Nothing was written.',
    });
  }
}

/** The recipients of a file in age's format: one per line, # comments and blank lines ignored. */
export async function readRecipientsFile(path: string): Promise<string[]> {
  const lines = meaningfulLines(await readKeyFile(path, 'recipients file', 'public'));
  const recipients: string[] = [];
  for (const { text, number } of lines) recipients.push(await checkRecipient(text, `${path} line ${number}`));
  if (recipients.length === 0) {
    throw new UsageError(`the recipients file ${path} holds no recipient.`, {
      hint: 'Put one age1… public key per line (age-keygen -y <identity file> prints it). Nothing was written.',
    });
  }
  return recipients;
}

/** The identities (AGE-SECRET-KEY-1…) of an age identity file; its lines are secret and never shown. */
export async function readIdentityFile(path: string): Promise<string[]> {
  const content = await readKeyFile(path, 'identity file', 'private');
  if (content.startsWith('age-encryption.org/') || content.startsWith('-----BEGIN AGE')) {
    throw new UsageError(`the identity file ${path} is itself encrypted.`, {
      hint: 'Decrypt it first (age -d), into a private file. Nothing was touched.',
    });
  }
  const { Decrypter } = await agePackage();
  const identities = meaningfulLines(content).map(({ text, number }) => {
    try {
      new Decrypter().addIdentity(text);
      return text;
    } catch {
      throw new UsageError(`${path} line ${number} is not an age identity.`, {
        hint: 'An age identity file holds AGE-SECRET-KEY-1… lines (as age-keygen writes them). Nothing was touched.',
      });
    }
  });
  if (identities.length === 0) {
    throw new UsageError(`the identity file ${path} holds no identity.`, {
      hint: 'Give the file age-keygen wrote (AGE-SECRET-KEY-1… lines). Nothing was touched.',
    });
  }
  return identities;
}

/** A passphrase kept in a file: its first line, without the line break. */
export async function readPassphraseFile(path: string): Promise<string> {
  const passphrase = (await readKeyFile(path, 'passphrase file', 'private')).split(/\r?\n/)[0];
  if (passphrase.length === 0) {
    throw new UsageError(`the passphrase file ${path} is empty.`, { hint: 'Put the passphrase on its first line. Nothing was touched.' });
  }
  return passphrase;
}

/**
 * A key file's text. A private one (an identity, a passphrase) that its group or others may
 * read or write is refused, as ssh refuses such a private key: the secret is already exposed
 * and a backup key should not stay so. Only regular files are checked (a pipe such as
 * `<(pass show backup)` has no such mode).
 */
async function readKeyFile(path: string, role: string, kind: 'public' | 'private'): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw unreadable(path, role, error);
  }
  try {
    const info = await handle.stat();
    if (kind === 'private' && info.isFile() && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      throw new UsageError(`the ${role} ${path} is open to other users (mode ${mode}); a secret key file must be private to its owner.`, {
        hint: `Run chmod 600 ${path} and try again. Nothing was touched.`,
      });
    }
    return await handle.readFile('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw unreadable(path, role, error);
  } finally {
    await handle.close();
  }
}

function unreadable(path: string, role: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
  return new UsageError(`cannot read the ${role} ${path} (${code}).`, {
    hint: 'Check the path and its permissions. Nothing was touched.',
  });
}

function meaningfulLines(content: string): { text: string; number: number }[] {
  return content
    .split(/\r?\n/)
    .map((line, index) => ({ text: line.trim(), number: index + 1 }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'));
}
