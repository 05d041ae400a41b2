import { z } from 'zod';

/**
 * The sizes of the archive body's gzip members (zstd frames), compressed and not, in order: with
 * the body's offset of a file's header (its index line's `at`), a reader finds the member that
 * holds it and starts decompressing there instead of at the archive's first byte. The body is
 * the archive's last bytes, so its first byte is the archive's size less the compressed sizes.
 */
export const SeekTableSchema = z.object({
  compressed: z.array(z.number().int().positive()),
  uncompressed: z.array(z.number().int().positive()),
});
export type SeekTable = z.infer<typeof SeekTableSchema>;

/** Where a read for a body offset starts: the member's first compressed byte in the archive, and the decompressed bytes to pass over. */
export interface SeekPoint {
  readonly position: number;
  readonly skip: number;
}

/** Records each member's sizes as the writer emits them. */
export class SeekTableBuilder {
  private readonly table: SeekTable = { compressed: [], uncompressed: [] };

  add(compressed: number, uncompressed: number): void {
    this.table.compressed.push(compressed);
    this.table.uncompressed.push(uncompressed);
  }

  get(): SeekTable {
    return this.table;
  }
}

/** A seek table resolved against an archive of `archiveSize` bytes; undefined when they cannot belong together. */
export class BodyMembers {
  private constructor(
    private readonly bodyStart: number,
    /** Cumulative starts: compressedStarts[i] and uncompressedStarts[i] are member i's first bytes in the body. */
    private readonly compressedStarts: Float64Array,
    private readonly uncompressedStarts: Float64Array,
    readonly uncompressedSize: number,
    private readonly compressedSize: number,
  ) {}

  static of(table: SeekTable, archiveSize: number): BodyMembers | undefined {
    const count = table.compressed.length;
    if (count === 0 || table.uncompressed.length !== count) return undefined;
    const compressedStarts = new Float64Array(count);
    const uncompressedStarts = new Float64Array(count);
    let compressed = 0;
    let uncompressed = 0;
    for (let member = 0; member < count; member += 1) {
      compressedStarts[member] = compressed;
      uncompressedStarts[member] = uncompressed;
      compressed += table.compressed[member];
      uncompressed += table.uncompressed[member];
    }
    if (compressed > archiveSize) return undefined;
    return new BodyMembers(archiveSize - compressed, compressedStarts, uncompressedStarts, uncompressed, compressed);
  }

  get count(): number {
    return this.uncompressedStarts.length;
  }

  /** Member `index`: its first compressed byte in the archive and its sizes. */
  member(index: number): { position: number; compressed: number; uncompressed: number } {
    const next = (starts: Float64Array, total: number) => (index + 1 < starts.length ? starts[index + 1] : total);
    return {
      position: this.bodyStart + this.compressedStarts[index],
      compressed: next(this.compressedStarts, this.compressedSize) - this.compressedStarts[index],
      uncompressed: next(this.uncompressedStarts, this.uncompressedSize) - this.uncompressedStarts[index],
    };
  }

  /** Where to start reading for the body offset `at`; undefined past the body's end. */
  pointFor(at: number): SeekPoint | undefined {
    if (!Number.isSafeInteger(at) || at < 0 || at >= this.uncompressedSize) return undefined;
    let low = 0;
    let high = this.uncompressedStarts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (this.uncompressedStarts[middle] <= at) low = middle;
      else high = middle - 1;
    }
    return { position: this.bodyStart + this.compressedStarts[low], skip: at - this.uncompressedStarts[low] };
  }
}
