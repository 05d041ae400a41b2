import type { ArchiveIndex, IndexedFile } from './fileIndex.js';

/**
 * What a selective restore reads: per component, the files it reads of it (undefined: all of
 * them). The other components' files are not read at all.
 */
export type CheckScope = ReadonlyMap<string, ((file: IndexedFile) => boolean) | undefined>;

/**
 * The files a selective check reads, counted from the index first: it is complete once that many
 * have been checked. A file of a component read whole met after that (one too many) is still
 * checked: the read stops only at a file it does not read.
 */
export class ReadScope {
  private files = 0;
  private bytes = 0;

  private constructor(
    private readonly only: CheckScope,
    private readonly remaining: Map<string, number>,
    /** The content bytes of the files it reads. */
    readonly toRead: number,
  ) {}

  static async of(index: ArchiveIndex, only: CheckScope): Promise<ReadScope> {
    const remaining = new Map<string, number>();
    let toRead = 0;
    for (const [component, reads] of only) {
      const { files, bytes } = index.of(component);
      let count = reads === undefined ? files : 0;
      toRead += reads === undefined ? bytes : 0;
      if (reads !== undefined) {
        for await (const file of index.of(component).entries()) {
          if (!reads(file)) continue;
          count += 1;
          toRead += file.size;
        }
      }
      remaining.set(component, count);
    }
    return new ReadScope(only, remaining, toRead);
  }

  covers(component: string): boolean {
    return this.only.has(component);
  }

  /** Whether the check reads this file; of a component alone: 'all' its files or only 'some'. */
  reads(component: string): 'all' | 'some';
  reads(component: string, file: IndexedFile): boolean;
  reads(component: string, file?: IndexedFile): boolean | 'all' | 'some' {
    const filter = this.only.get(component);
    if (file === undefined) return filter === undefined ? 'all' : 'some';
    return filter === undefined || filter(file);
  }

  checked(component: string, size: number): void {
    this.remaining.set(component, (this.remaining.get(component) ?? 0) - 1);
    this.files += 1;
    this.bytes += size;
  }

  complete(): boolean {
    return [...this.remaining.values()].every((left) => left <= 0);
  }

  totals(): { files: number; bytes: number } {
    return { files: this.files, bytes: this.bytes };
  }
}
