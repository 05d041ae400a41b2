import { withoutFirstBytes } from '../base/asyncSequences.js';
import { Readable } from 'node:stream';
import { UsageError } from '../base/errors.js';
import { AGE_MAGIC, describeStanzas, headerLength, openHeader, stanzaTypes, type Keyring } from '../age/header.js';
import { openPayload, plaintextSize } from '../age/payload.js';
import type { ArchiveBytes } from './location.js';
import { locationName } from './location.js';

const ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----';

/**
 * The archive inside an age file, as the readers see any archive: each stream opens the payload
 * again from the first byte of the file, chunk by chunk, so the plaintext is never on disk nor
 * whole in memory. A cut, changed or extended file fails at the chunk where it differs.
 */
class DecryptedArchive implements ArchiveBytes {
  constructor(
    private readonly sealed: ArchiveBytes,
    private readonly headerBytes: number,
    private readonly fileKey: Uint8Array,
    readonly size: number,
    readonly encryption: string,
  ) {}

  get path(): string {
    return this.sealed.path;
  }

  stream(): Readable {
    const source = this.sealed.stream();
    const plaintext = Readable.from(openPayload(withoutFirstBytes(source, this.headerBytes), this.fileKey), { objectMode: false });
    plaintext.once('close', () => source.destroy());
    return plaintext;
  }

  assertUnchanged(): Promise<void> {
    return this.sealed.assertUnchanged();
  }

  close(): Promise<void> {
    return this.sealed.close();
  }
}

/**
 * The readable archive of these bytes: themselves when they are a plain `.tar.gz`, the archive
 * inside when they are an age file (opened with the keyring, which may ask for a passphrase).
 * Refuses, touching nothing, when the keyring cannot open it.
 */
export async function unsealed(bytes: ArchiveBytes, keyring: Keyring | undefined): Promise<ArchiveBytes> {
  const start = await headerPrefix(bytes);
  if (!start.subarray(0, AGE_MAGIC.length).equals(Buffer.from(AGE_MAGIC))) {
    if (start.subarray(0, ARMOR.length).toString('latin1') === ARMOR) {
      throw new UsageError(`${locationName(bytes)} is an armored (ASCII) age file.`, {
        hint: 'Turn it back into binary first: age -d -i <identity> file | age -r <recipient> > file.tar.gz.age, or decrypt it to a .tar.gz. Nothing was touched.',
      });
    }
    return bytes;
  }
  const name = locationName(bytes);
  const headerBytes = headerLength(start);
  if (headerBytes === undefined) {
    throw new UsageError(`${name} is damaged: its age header never ends.`, {
      hint: 'Use another copy of the archive. Nothing was touched.',
    });
  }
  const size = plaintextSize(bytes.size - headerBytes);
  if (size === undefined) {
    throw new UsageError(`${name} is damaged: the encrypted file is cut short (${bytes.size} bytes).`, {
      hint: 'Use another copy of the archive. Nothing was touched.',
    });
  }
  const header = start.subarray(0, headerBytes);
  const fileKey = await openHeader(header, keyring ?? NO_KEYS, name);
  return new DecryptedArchive(bytes, headerBytes, fileKey, size, `age, to ${describeStanzas(stanzaTypes(header))}`);
}

/** The archive inside an age file this tool just wrote, whose header length and file key it knows (the backup's read-back). */
export function decryptedWith(sealed: ArchiveBytes, headerBytes: number, fileKey: Uint8Array): ArchiveBytes {
  const size = plaintextSize(sealed.size - headerBytes);
  if (size === undefined) throw new UsageError(`${locationName(sealed)}: the encrypted file written has an impossible size.`);
  return new DecryptedArchive(sealed, headerBytes, fileKey, size, 'age');
}

const NO_KEYS: Keyring = { identityFiles: [], identities: async () => [], passphrase: async () => undefined };

/** The first bytes of the archive: enough for an age header, or the magic proves it is none. */
async function headerPrefix(bytes: ArchiveBytes): Promise<Buffer> {
  const stream = bytes.stream();
  let start = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      start = Buffer.concat([start, chunk]);
      if (start.length >= AGE_MAGIC.length && !start.subarray(0, AGE_MAGIC.length).equals(Buffer.from(AGE_MAGIC))) break;
      if (start.length >= AGE_MAGIC.length && headerLength(start) !== undefined) break;
    }
  } finally {
    stream.destroy();
  }
  return start;
}
