/**
 * LZF as Redis uses it for long strings (liblzf's format). A literal run is a control byte 0-31
 * followed by control + 1 bytes. A back-reference is a control byte whose top three bits give a
 * length (7: plus the next byte), then an offset byte: at most 3 bytes that write at most
 * 7 + 255 + 2 = 264 bytes. So n compressed bytes expand to at most 88 n.
 */
const MOST_WRITTEN_PER_BYTE = 264 / 3;

/** The most bytes `compressed` bytes of LZF can expand to. */
export function lzfMostExpanded(compressed: number): number {
  return compressed * MOST_WRITTEN_PER_BYTE;
}

/** Compressed bytes that do not expand to what their record declares. */
export class LzfDamage extends Error {}

/**
 * Follows an LZF stream piece by piece without writing its output: checks that every
 * back-reference points inside what came before, and that the whole expands to exactly the
 * declared size, as Redis's loader requires. Holds no more than a few counters.
 */
export class LzfShape {
  private written = 0;
  /** Literal bytes still to pass over. */
  private literal = 0;
  /** The control byte of a back-reference whose next bytes have not come yet, or -1. */
  private control = -1;
  private length = 0;
  private lengthByteDue = false;

  constructor(private readonly declared: number) {}

  feed(piece: Buffer): void {
    let at = 0;
    while (at < piece.length) {
      if (this.literal > 0) {
        const passed = Math.min(this.literal, piece.length - at);
        at += passed;
        this.literal -= passed;
        continue;
      }
      const byte = piece[at++];
      if (this.control < 0) {
        if (byte < 32) {
          this.literal = byte + 1;
          this.grow(byte + 1);
        } else {
          this.control = byte;
          this.length = byte >> 5;
          this.lengthByteDue = this.length === 7;
        }
      } else if (this.lengthByteDue) {
        this.length += byte;
        this.lengthByteDue = false;
      } else {
        const distance = ((this.control & 0x1f) << 8) + byte + 1;
        if (distance > this.written) throw new LzfDamage('a back-reference points before the start of the string');
        this.grow(this.length + 2);
        this.control = -1;
      }
    }
  }

  finish(): void {
    if (this.literal > 0 || this.control >= 0) throw new LzfDamage('the compressed bytes end inside a token');
    if (this.written !== this.declared) throw new LzfDamage(`they expand to ${this.written} bytes, not the ${this.declared} declared`);
  }

  private grow(count: number): void {
    this.written += count;
    if (this.written > this.declared) throw new LzfDamage(`they expand past the ${this.declared} bytes declared`);
  }
}

/**
 * The string `input` expands to, which must be exactly `outputSize` bytes. The output buffer is
 * sized by the declaration only once it is known to be within what the input can expand to.
 */
export function lzfDecompress(input: Buffer, outputSize: number): Buffer {
  if (outputSize > lzfMostExpanded(input.length)) throw new LzfDamage(`${input.length} bytes cannot expand to ${outputSize}`);
  const output = Buffer.alloc(outputSize);
  let inIndex = 0;
  let outIndex = 0;
  while (inIndex < input.length) {
    const control = input[inIndex++];
    if (control < 32) {
      const length = control + 1;
      if (outIndex + length > outputSize) throw new LzfDamage(`they expand past the ${outputSize} bytes declared`);
      if (inIndex + length > input.length) throw new LzfDamage('the compressed bytes end inside a token');
      input.copy(output, outIndex, inIndex, inIndex + length);
      inIndex += length;
      outIndex += length;
    } else {
      let length = control >> 5;
      if (length === 7) length += input[inIndex++];
      if (inIndex >= input.length) throw new LzfDamage('the compressed bytes end inside a token');
      const back = outIndex - ((control & 0x1f) << 8) - input[inIndex++] - 1;
      length += 2;
      if (back < 0) throw new LzfDamage('a back-reference points before the start of the string');
      if (outIndex + length > outputSize) throw new LzfDamage(`they expand past the ${outputSize} bytes declared`);
      for (let index = 0; index < length; index += 1) output[outIndex++] = output[back + index];
    }
  }
  if (outIndex !== outputSize) throw new LzfDamage(`they expand to ${outIndex} bytes, not the ${outputSize} declared`);
  return output;
}
