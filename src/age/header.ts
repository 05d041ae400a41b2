import type { Recipient, Stanza } from 'age-encryption';
import { agePackage } from './package.js';
import { UsageError } from '../base/errors.js';

/** How a new archive is encrypted: to age recipients (public keys), or with a passphrase (scrypt). */
export type Sealing = { readonly recipients: readonly string[] } | { readonly passphrase: string };

/** What can open an encrypted archive: age identities (private keys) and a passphrase, asked for only when the archive needs one. */
export interface Keyring {
  /** The identity files given, by path: what messages name (never their content). */
  readonly identityFiles: readonly string[];
  /** Read on first need: an identity named in settings but missing on this host does not stop a plain archive from being read. */
  identities(): Promise<readonly string[]>;
  /** The passphrase, from --passphrase-file or asked on a terminal; undefined when there is no way to get one. */
  passphrase(): Promise<string | undefined>;
}

/**
 * An encrypted archive this keyring cannot open (no identity given, none matching, no
 * passphrase): not a damaged archive. `list` and `prune` judge such archives by name and size.
 */
export class LockedArchiveError extends UsageError {}

export const AGE_MAGIC = 'age-encryption.org/v1\n';
/** Headers are a few hundred bytes per recipient; more than this is not an age file we wrote or would read. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * Hands the file key to us as the package wraps it for the real recipients. The package makes
 * the header (stanzas, MAC) but seals its payload only through a web stream in pure JavaScript;
 * with the file key the payload is sealed with node:crypto instead (payload.ts). This recipient
 * adds no stanza of its own.
 */
class FileKeyCapture implements Recipient {
  fileKey: Uint8Array | undefined;
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    this.fileKey = fileKey;
    return [];
  }
}

/** A new header and its file key. With a passphrase the key is recovered from the header (scrypt twice: about 5 s). */
export async function newHeader(sealing: Sealing): Promise<{ header: Buffer; fileKey: Uint8Array }> {
  const { Decrypter, Encrypter } = await agePackage();
  const encrypter = new Encrypter();
  if ('passphrase' in sealing) {
    encrypter.setPassphrase(sealing.passphrase);
    const header = headerOf(await encrypter.encrypt(new Uint8Array(0)));
    const decrypter = new Decrypter();
    decrypter.addPassphrase(sealing.passphrase);
    return { header, fileKey: await decrypter.decryptHeader(header) };
  }
  const capture = new FileKeyCapture();
  for (const recipient of sealing.recipients) encrypter.addRecipient(recipient);
  encrypter.addRecipient(capture);
  const header = headerOf(await encrypter.encrypt(new Uint8Array(0)));
  return { header, fileKey: capture.fileKey! };
}

/** An empty file is its header, the 16-byte payload nonce and one empty sealed chunk (16 bytes). */
function headerOf(emptyFile: Uint8Array): Buffer {
  return Buffer.from(emptyFile.subarray(0, emptyFile.length - 32));
}

/** The length of the header at the start of these bytes (up to and including the MAC line), or undefined if it has not ended yet. */
export function headerLength(start: Buffer): number | undefined {
  const macLine = start.indexOf('\n--- ');
  if (macLine === -1) {
    if (start.length > MAX_HEADER_BYTES)
      throw new UsageError('the age header is larger than 1 MiB; this is not an archive the tool wrote.');
    return undefined;
  }
  const end = start.indexOf('\n', macLine + 1);
  return end === -1 ? undefined : end + 1;
}

/** The stanza types of a header (`X25519`, `scrypt`, …): what it was encrypted to, for messages. */
export function stanzaTypes(header: Buffer): string[] {
  return header
    .toString('latin1')
    .split('\n')
    .filter((line) => line.startsWith('-> '))
    .map((line) => line.slice(3).split(' ')[0]);
}

/**
 * The file key of a header, opened with the keyring: by passphrase when the file was
 * encrypted with one (asked only then), else by the identities. `name` is what messages call
 * the archive. Nothing secret is ever in a message.
 */
export async function openHeader(header: Buffer, keyring: Keyring, name: string): Promise<Uint8Array> {
  const types = stanzaTypes(header);
  const { Decrypter } = await agePackage();
  const decrypter = new Decrypter();
  if (types.includes('scrypt')) {
    const passphrase = await keyring.passphrase();
    if (passphrase === undefined) {
      throw new LockedArchiveError(`${name} is encrypted with a passphrase.`, {
        hint: 'Run on a terminal to be asked for it, or pass --passphrase-file <file>. Nothing was touched.',
      });
    }
    decrypter.addPassphrase(passphrase);
  } else {
    const identities = await keyring.identities();
    if (identities.length === 0) {
      throw new LockedArchiveError(`${name} is encrypted (age, to ${describeStanzas(types)}).`, {
        hint: 'Pass --identity <file> with a matching age identity (or set ORKESTRA_BACKUP_IDENTITY). Nothing was touched.',
      });
    }
    for (const identity of identities) decrypter.addIdentity(identity);
  }
  try {
    return await decrypter.decryptHeader(header);
  } catch (error) {
    throw headerFailure(error as Error, types, keyring, name);
  }
}

function headerFailure(error: Error, types: string[], keyring: Keyring, name: string): UsageError {
  if (/no identity matched/.test(error.message)) {
    if (types.includes('scrypt')) {
      return new LockedArchiveError(`the passphrase does not open ${name}.`, { hint: 'Check the passphrase. Nothing was touched.' });
    }
    return new LockedArchiveError(
      `no identity in ${keyring.identityFiles.join(', ')} opens ${name} (encrypted to ${describeStanzas(types)}).`,
      {
        hint: 'Pass --identity with the file holding the matching age secret key. Nothing was touched.',
      },
    );
  }
  return new UsageError(`${name} is damaged: its age header does not check out (${error.message}).`, {
    hint: 'Use another copy of the archive. Nothing was touched.',
  });
}

/** `1 X25519 recipient`, `2 X25519 recipients, 1 scrypt recipient`: what a header was encrypted to. */
export function describeStanzas(types: string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, count]) => (count === 1 ? `1 ${type} recipient` : `${count} ${type} recipients`)).join(', ');
}
