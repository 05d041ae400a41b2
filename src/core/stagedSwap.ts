import { lstat, mkdir, open, rename } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import { RuntimeError } from '../base/errors.js';
import {
  escapeRegExp,
  ownedName,
  ownedSuffix,
  removeLeftoversOfGoneRuns,
  removeTemporary,
  trackTemporary,
  untrackTemporary,
} from '../base/temporaryFiles.js';
import { writeAll } from '../archive/writeAll.js';
import { critical } from '../base/criticalSection.js';

/** `.<name>.orkestra-restore-<pid>-<random>`: the pid tells the next restore whether the run that staged it is gone. */
const STAGED_MARK = '.orkestra-restore-';
const STAGED_LEFTOVER = ownedName(`\\..+${escapeRegExp(STAGED_MARK)}`);

/** Removes the staged copies that runs killed outright left in `folder`; returns their names. */
export function removeStagedLeftovers(folder: string): Promise<string[]> {
  return removeLeftoversOfGoneRuns(folder, STAGED_LEFTOVER);
}

/** A target's new content, complete, beside it: swapping it in is a rename on one filesystem. */
export interface StagedItem {
  /** The file or folder being restored. */
  readonly target: string;
  /** The new content, written whole. */
  readonly staged: string;
  /** Moves the current target to where it is kept and says where (asked only when it exists). */
  keep(): Promise<string>;
}

/** The mode a staged file is given once written whole, and its mtime (ms) when it is restored too. */
export interface FileAttributes {
  readonly mode: number;
  readonly mtimeMs?: number;
}

/**
 * Writes `content` whole into a new file at `path` (never through a link or a file already at
 * that name; 0600 while written), then gives it its attributes through the same handle, so that
 * nothing swapped in at the name meanwhile is changed instead.
 */
export async function writeNewFile(
  path: string,
  content: NodeJS.ReadableStream,
  attributes: FileAttributes,
  signal: AbortSignal,
): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await pipeline(
      content,
      async (chunks: AsyncIterable<Buffer | string>) => {
        for await (const chunk of chunks) await writeAll(handle, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      },
      { signal },
    );
    await handle.chmod(attributes.mode);
    if (attributes.mtimeMs !== undefined) await handle.utimes(attributes.mtimeMs / 1000, attributes.mtimeMs / 1000);
  } finally {
    await handle.close();
  }
}

export interface SwappedItem {
  readonly target: string;
  /** Where the previous content is kept; undefined when there was none. */
  readonly kept?: string;
}

interface SwapStep extends StagedItem {
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

  /** Staged folders made by folderBeside: what each is (device and inode), checked before it is written into. */
  private readonly madeFolders = new Map<string, { dev: number; ino: number }>();

  /**
   * A hidden path beside `target` for its new content, `.<name>.orkestra-restore-<pid>-<random>`;
   * the folders above it are made if missing. Staged copies a killed run left in that folder are
   * removed first (they may hold secrets, and nothing else ever removes them).
   */
  async beside(target: string): Promise<string> {
    await removeStagedLeftovers(dirname(target));
    const made = await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    if (made !== undefined) this.track(made);
    const staged = join(dirname(target), `.${basename(target)}${STAGED_MARK}${ownedSuffix()}`);
    this.track(staged);
    return staged;
  }

  /**
   * A staged folder (0700) beside `target`, whose identity is recorded: checkFolder refuses to
   * write into it once something else stands at its path. The folder beside the target may be
   * shared with a container (a bind mount), which could put a link there between two writes.
   */
  async folderBeside(target: string): Promise<string> {
    const staged = await this.beside(target);
    await mkdir(staged, { mode: 0o700 });
    const info = await lstat(staged);
    this.madeFolders.set(staged, { dev: info.dev, ino: info.ino });
    return staged;
  }

  /** Throws unless `staged` is still the very folder folderBeside made (not a link, not another folder). */
  async checkFolder(staged: string): Promise<void> {
    const made = this.madeFolders.get(staged);
    const info = await lstat(staged).catch(() => undefined);
    if (made === undefined || !info?.isDirectory() || info.dev !== made.dev || info.ino !== made.ino) {
      throw new RuntimeError(
        `${staged}, the folder this restore was writing into, was replaced by something else (nothing more was written there)`,
        {
          hint: 'Another process changed the folder beside the target during the restore (a container sharing it?). Check it, then run the restore again.',
        },
      );
    }
  }

  /**
   * Removes every staged copy and every folder made for one: the targets stay as they were.
   * Never throws (its failure must not hide the error that led here): says what is left instead.
   */
  async discard(): Promise<string[]> {
    const left: string[] = [];
    for (const path of this.created.splice(0).reverse()) {
      await removeTemporary(path).catch((error: Error) => left.push(`${path} (${error.message})`));
    }
    this.madeFolders.clear();
    return left;
  }

  /**
   * The error for a failure or an interrupt while the staged copies were written: they are
   * discarded, and the message says that no target was replaced and, when a copy could not be
   * removed, where it is.
   */
  async abandon(error: unknown, interrupted: boolean, writing: string, unchanged: string): Promise<RuntimeError> {
    const left = await this.discard();
    const why = interrupted ? 'interrupted' : (error as Error).message;
    const cleanup =
      left.length === 0 ? 'the partial copies were removed' : `the partial copies could not all be removed: ${left.join('; ')}`;
    return new RuntimeError(`${why} while writing ${writing} — ${unchanged} (${cleanup}).`, {
      cause: error,
      hint: left.length === 0 ? (error as { hint?: string }).hint : 'Remove what is left by hand; it is not part of any target.',
    });
  }

  /**
   * Moves each existing target to its kept place and renames its staged content in, as one
   * critical step (an interrupt waits for it). When a rename fails, what was swapped is swapped
   * back; the error says whether that worked and, where it did not, where the kept copy is.
   */
  async swapIn(description: string, items: readonly StagedItem[]): Promise<SwappedItem[]> {
    return critical(description, async () => {
      const done: SwapStep[] = [];
      try {
        for (const item of items) {
          const step: SwapStep = { ...item, placed: false };
          done.push(step);
          if (await exists(item.target)) step.kept = await item.keep();
          await rename(item.staged, item.target);
          step.placed = true;
        }
      } catch (error) {
        const stranded = await undo(done);
        let left: string[] = [];
        if (stranded.length === 0) left = await this.discard();
        else this.forget();
        throw swapFailure(error as Error, done, stranded, left);
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
async function undo(done: readonly SwapStep[]): Promise<Stranded[]> {
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

/** `left`: staged copies that could not be removed once everything was put back. */
function swapFailure(cause: Error, done: readonly SwapStep[], stranded: readonly Stranded[], left: readonly string[]): RuntimeError {
  const touched = done.filter((step) => step.kept !== undefined || step.placed).map((step) => step.target);
  if (stranded.length === 0) {
    const back = touched.length > 0 ? `the previous content was put back (${touched.join(', ')})` : 'nothing was replaced';
    const leftover = left.length > 0 ? `; the restored copy could not be removed: ${left.join('; ')}` : '';
    return new RuntimeError(`swapping the restored copy in failed: ${cause.message} — ${back}${leftover}.`, {
      cause,
      hint: left.length > 0 ? 'Remove the restored copy by hand; it is not part of any target.' : undefined,
    });
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
