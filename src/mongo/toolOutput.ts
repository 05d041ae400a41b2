import { TailBuffer } from '../docker/demux.js';

/** Secrets shorter than this are left to the patterns: masking every "ab" would garble the line. */
const SHORTEST_LITERAL_SECRET = 4;

/**
 * A line from mongodump or mongorestore with its credentials masked, before it reaches a message,
 * the dry run's report or --json: the real tools print the whole connection string in their
 * connect and authentication errors. `user:password@` becomes `user:***@`, `password=` (and the
 * other secret options of a connection string) become `password=***`, and the secrets given
 * (the password the tool was handed) are masked wherever they appear, plain or URL-encoded.
 */
export function maskCredentials(text: string, secrets: readonly (string | undefined)[] = []): string {
  let masked = text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):[^\s/]*@/gi, '$1$2:***@')
    .replace(/\b(password|pwd|tlsCertificateKeyFilePassword|AWS_SESSION_TOKEN)([=:])[^\s&,;"']*/gi, '$1$2***');
  for (const secret of secrets) {
    if (!secret || secret.length < SHORTEST_LITERAL_SECRET) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) masked = masked.split(form).join('***');
  }
  return masked;
}

/**
 * The last `limit` bytes of a tool's output, for messages, masked as above. When older output
 * was dropped, the first line is cut: a connection string split in the middle would not be
 * recognised, and its password would be shown.
 */
export class ToolOutput {
  private readonly tail: TailBuffer;
  private total = 0;

  constructor(
    private readonly limit: number,
    private readonly secrets: readonly (string | undefined)[],
  ) {
    this.tail = new TailBuffer(limit);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.tail.push(chunk);
  }

  toString(): string {
    let text = this.tail.toString();
    if (this.total > this.limit) {
      const newline = text.indexOf('\n');
      text = newline === -1 ? '' : text.slice(newline + 1);
    }
    return maskCredentials(text, this.secrets);
  }
}
