import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RuntimeError } from '../base/errors.js';
import { removeTemporary, trackTemporary, untrackTemporary } from '../base/temporaryFiles.js';
import { critical } from './criticalSection.js';

/** A target's new content, complete, beside it: swapping it in is a rename on one filesystem. */
export interface StagedItem {
  /** The file or folder being restored. */
  readonly target: string;
  /** The new content, written whole. */
  readonly staged: string;
  /** Moves the current target to where it is kept and says where (asked only when it exists). */
  keep(): Promise<string>;
}

export interface SwappedItem {
  readonly target: string;
  /** Where the previous content is kept; undefined when there was none. */
  readonly kept?: string;
}

interface Progress extends StagedItem {
  kept?: string;
  placed: boolean;
}

/**
 * New content written beside its targets, then swapped in whole. Until the swap, the targets are
 * untouched and the staged copies (and the folders made to hold them) are removed on any failure
 * or interrupt; the swap itself runs in a critical section and either completes or is undone.
 */
export class StagingArea {
  /** Everything this restore created that is not part of a target yet, in creation order. */
  private readonly created: string[] = [];

  /** A hidden path beside `target` for its new content; the folders above it are made if missing. */
  async beside(target: string): Promise<string> {
    const made = await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    if (made !== undefined) this.track(made);
    const staged = join(dirname(target), `.${basename(target)}.orkestra-restore-${randomBytes(4).toString('hex')}`);
    this.track(staged);
    return staged;
  }

  /** Removes every staged copy and every folder made for one: the targets stay as they were. */
  async discard(): Promise<void> {
    for (const path of this.created.splice(0).reverse()) await removeTemporary(path);
  }

  /**
   * Moves each existing target to its kept place and renames its staged content in, as one
   * critical step (an interrupt waits for it). When a rename fails, what was swapped is swapped
   * back; the error says whether that worked and, where it did not, where the kept copy is.
   */
  async swapIn(description: string, items: readonly StagedItem[]): Promise<SwappedItem[]> {
    return critical(description, async () => {
      const done: Progress[] = [];
      try {
        for (const item of items) {
          const step: Progress = { ...item, placed: false };
          done.push(step);
          if (await exists(item.target)) step.kept = await item.keep();
          await rename(item.staged, item.target);
          step.placed = true;
        }
      } catch (error) {
        const stranded = await undo(done);
        if (stranded.length === 0) await this.discard();
        else this.forget();
        throw swapFailure(error as Error, done, stranded);
      }
      this.forget();
      return done.map(({ target, kept }) => ({ target, kept }));
    });
  }

  private track(path: string): void {
    this.created.push(path);
    trackTemporary(path);
  }

  /** The staged copies are targets now (or must stay where the error says): never removed. */
  private forget(): void {
    for (const path of this.created.splice(0)) untrackTemporary(path);
  }
}

interface Stranded {
  readonly target: string;
  readonly kept?: string;
  readonly problem: string;
}

/** Swaps back, last first: the new content out to its staged name, the kept content back in. */
async function undo(done: readonly Progress[]): Promise<Stranded[]> {
  const stranded: Stranded[] = [];
  for (const step of [...done].reverse()) {
    try {
      if (step.placed) await rename(step.target, step.staged);
      if (step.kept !== undefined) await rename(step.kept, step.target);
    } catch (error) {
      stranded.push({ target: step.target, kept: step.kept, problem: (error as Error).message });
    }
  }
  return stranded;
}

function swapFailure(cause: Error, done: readonly Progress[], stranded: readonly Stranded[]): RuntimeError {
  const touched = done.filter((step) => step.kept !== undefined || step.placed).map((step) => step.target);
  if (stranded.length === 0) {
    const back = touched.length > 0 ? `the previous content was put back (${touched.join(', ')})` : 'nothing was replaced';
    return new RuntimeError(`swapping the restored copy in failed: ${cause.message} — ${back}.`, { cause });
  }
  const where = stranded.map((item) => (item.kept ? `${item.target} is kept in ${item.kept}` : `${item.target}: ${item.problem}`));
  return new RuntimeError(`swapping the restored copy in failed: ${cause.message} — putting the previous content back failed too.`, {
    cause,
    hint: `${where.join('; ')}. Move the kept copy back in place by hand.`,
  });
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
