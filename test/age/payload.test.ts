import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { hasAgeCli } from '../helpers/age.js';
import { headerLength, newHeader, openHeader, type Keyring } from '../../src/age/header.js';
import { CHUNK_BYTES, DamagedPayloadError, openPayload, plaintextSize, sealedPayloadSize, sealPayload } from '../../src/age/payload.js';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

const keyringOf = (identities: string[]): Keyring => ({
  identityFiles: ['test-identity'],
  identities: async () => identities,
  passphrase: async () => undefined,
});

async function sealedFile(plaintext: Buffer, recipient: string): Promise<Buffer> {
  const { header, fileKey } = await newHeader({ recipients: [recipient] });
  return Buffer.concat([header, await collect(sealPayload(pieces(plaintext, 10_000), fileKey, randomBytes(16)))]);
}

describe('age payload (STREAM, sealed with node:crypto)', () => {
  it.each([0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES, 200_001])(
    'round-trips %i bytes, with the size rule both ways',
    async (size) => {
      const plaintext = randomBytes(size);
      const fileKey = randomBytes(16);
      const sealed = await collect(sealPayload(pieces(plaintext, 7777), fileKey, randomBytes(16)));
      expect(sealed.length).toBe(sealedPayloadSize(size));
      expect(plaintextSize(sealed.length)).toBe(size);
      expect((await collect(openPayload(pieces(sealed, 5000), fileKey))).equals(plaintext)).toBe(true);
    },
  );

  it('refuses a payload cut at a chunk boundary, a flipped byte and a wrong key', async () => {
    const fileKey = randomBytes(16);
    const sealed = await collect(sealPayload(pieces(randomBytes(3 * CHUNK_BYTES + 10), 65536), fileKey, randomBytes(16)));
    const cut = sealed.subarray(0, 16 + 2 * (CHUNK_BYTES + 16));
    await expect(collect(openPayload(pieces(cut, 4096), fileKey))).rejects.toBeInstanceOf(DamagedPayloadError);
    const flipped = Buffer.from(sealed);
    flipped[100_000] ^= 1;
    await expect(collect(openPayload(pieces(flipped, 4096), fileKey))).rejects.toThrow(/chunk 1 .*authentication/);
    await expect(collect(openPayload(pieces(sealed, 4096), randomBytes(16)))).rejects.toBeInstanceOf(DamagedPayloadError);
  });
});

describe.skipIf(!hasAgeCli)('age files: interop with the age CLI (Debian package age; skipped without it)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'age-interop-'));

  it('age -d opens what the tool seals, to the same bytes', async () => {
    const identity = await generateIdentity();
    const identityFile = join(folder, 'key.txt');
    writeFileSync(identityFile, `# test key\n${identity}\n`, { mode: 0o600 });
    const plaintext = randomBytes(5 * CHUNK_BYTES + 123);
    const sealedPath = join(folder, 'tool.age');
    writeFileSync(sealedPath, await sealedFile(plaintext, await identityToRecipient(identity)));
    const opened = execFileSync('age', ['-d', '-i', identityFile, sealedPath], { maxBuffer: 1 << 26 });
    expect(opened.equals(plaintext)).toBe(true);
  });

  it('the tool opens what age -r seals; a wrong identity is refused by name of its file', async () => {
    const identity = await generateIdentity();
    const plaintext = randomBytes(2 * CHUNK_BYTES);
    const sealed = execFileSync('age', ['-r', await identityToRecipient(identity)], { input: plaintext, maxBuffer: 1 << 26 });
    const length = headerLength(sealed)!;
    const fileKey = await openHeader(sealed.subarray(0, length), keyringOf([identity]), 'x.age');
    expect((await collect(openPayload(pieces(sealed.subarray(length), 9000), fileKey))).equals(plaintext)).toBe(true);
    await expect(openHeader(sealed.subarray(0, length), keyringOf([await generateIdentity()]), 'x.age')).rejects.toThrow(
      /no identity in test-identity opens x\.age \(encrypted to 1 X25519 recipient\)/,
    );
  });
});
