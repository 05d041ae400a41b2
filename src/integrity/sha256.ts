import { createHash } from 'node:crypto';

/** The SHA-256 (hex) of streamed content, each chunk counted as it passes when asked. */
export async function sha256Of(content: AsyncIterable<unknown>, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of content) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}
