import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { normalisePath, selectorGlob } from '../base/globMatch.js';
import { plural } from '../base/format.js';
import { sha256Of } from '../integrity/sha256.js';
import type { RestoreSelection, RestoreSelector, SelectionImpact } from '../core/component.js';
import { StagingArea, writeNewFile, type FileAttributes, type StagedItem, type SwappedItem } from '../core/stagedSwap.js';

/**
 * The restore selectors of the components whose data is files (secrets, directory and volume
 * components): `--files PATH|GLOB` picks files by their path inside the component's folder,
 * `--into DIR` writes them into DIR instead of their live place.
 */
export const FILE_SELECTORS: readonly RestoreSelector[] = [
  {
    flag: 'files',
    value: 'PATH|GLOB',
    repeatable: true,
    help: "only these files, by path inside the component's folder: a file, a folder or a glob ('keys/*.pem')",
  },
  {
    flag: 'into',
    value: 'DIR',
    repeatable: false,
    beside: true,
    help: 'write the selection (all the component without --files) into DIR; the live files are not touched',
  },
];

/** What `--files` and `--into` ask of one component. */
export interface FileSelection {
  /** The --files patterns; empty: every file of the component. */
  readonly patterns: readonly string[];
  /** --into, as an absolute path. */
  readonly into?: string;
}

export function fileSelection(selection: RestoreSelection | undefined): FileSelection | undefined {
  if (selection === undefined) return undefined;
  const into = selection.flags.into?.[0];
  return { patterns: selection.flags.files ?? [], into: into === undefined ? undefined : resolve(into) };
}

/** Where a selected file goes: nothing there yet, a file that differs, or the same bytes (left as is). */
export type FileState = 'add' | 'overwrite' | 'identical';

interface PatternTally {
  readonly pattern: string;
  readonly test: (path: string) => boolean;
  readonly counts: Record<FileState, number>;
}

/**
 * Matches a component's paths against the --files patterns and counts, per pattern, what the
 * archive holds and what is there now. A pattern matches a path when it matches the path or a
 * folder above it (picomatch, dot files included), so `keys` takes everything under keys/.
 */
export class FileTally {
  private readonly tallies: PatternTally[];
  private readonly totals: Record<FileState, number> = { add: 0, overwrite: 0, identical: 0 };

  constructor(
    patterns: readonly string[],
    private readonly component: string,
  ) {
    this.tallies = patterns.map((pattern) => {
      const match = selectorGlob(normalisePath(pattern));
      return { pattern, test: (path) => withFolders(path).some((prefix) => match(prefix)), counts: { add: 0, overwrite: 0, identical: 0 } };
    });
  }

  /** Whether the selection takes this path (every path when no --files was given). */
  selects(path: string): boolean {
    return this.tallies.length === 0 || this.tallies.some((tally) => tally.test(path));
  }

  /** Counts a selected file under every pattern that takes it, and in the totals once. */
  count(path: string, state: FileState): void {
    this.totals[state] += 1;
    for (const tally of this.tallies) if (tally.test(path)) tally.counts[state] += 1;
  }

  /** Refuses (exit 2, before anything changes) a --files pattern that matched no file of the archive. */
  refuseUnmatched(archiveName: string): void {
    const empty = this.tallies.find((tally) => total(tally.counts) === 0);
    if (empty === undefined) return;
    throw new UsageError(`--files ${empty.pattern} matches no file of ${this.component} in ${archiveName}.`, {
      hint: `Paths are inside the component's folder (orkestra-backup inspect ${archiveName} lists them). Nothing was touched.`,
    });
  }

  /** One line per --files pattern for the dry run: what the archive holds and what is there now. */
  lines(): string[] {
    if (this.tallies.length === 0) return [`all ${countsText(this.totals)}`];
    return this.tallies.map((tally) => `--files ${tally.pattern}: ${countsText(tally.counts)}`);
  }

  impact(beside?: string): SelectionImpact {
    return { totals: countsText(this.totals), beside };
  }

  get selected(): number {
    return total(this.totals);
  }
}

function total(counts: Record<FileState, number>): number {
  return counts.add + counts.overwrite + counts.identical;
}

function countsText(counts: Record<FileState, number>): string {
  return `${plural(total(counts), 'file')} in the archive: ${counts.add} to add, ${counts.overwrite} to overwrite (different), ${counts.identical} identical`;
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`. */
function withFolders(path: string): string[] {
  const segments = path.split('/');
  return segments.map((_, index) => segments.slice(0, index + 1).join('/'));
}

/**
 * What is at `root/path` now, compared with the archive's SHA-256. Refused when something there
 * is not a plain folder above the file (a link could lead the write elsewhere) or is a folder.
 */
export async function fileState(root: string, path: string, sha256: string | undefined): Promise<FileState> {
  let current = root;
  for (const segment of path.split('/').slice(0, -1)) {
    current = join(current, segment);
    const info = await lstat(current).catch(() => undefined);
    if (info === undefined) return 'add';
    if (!info.isDirectory()) {
      throw new PreconditionError(`${join(root, path)} cannot be written: ${current} is not a folder.`, {
        hint: 'Move it away and run the restore again.',
      });
    }
  }
  const target = join(root, path);
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return 'add';
  if (info.isDirectory()) {
    throw new PreconditionError(`${target} is a folder; the backup has a file there.`, {
      hint: 'Move the folder away and run the restore again.',
    });
  }
  if (info.isFile() && sha256 !== undefined && (await sha256Of(createReadStream(target))) === sha256) return 'identical';
  return 'overwrite';
}

/**
 * Refuses an --into folder that is one of the live places the component restores to, lies inside
 * one or holds one: writing there would change the live target. `live`: those places.
 */
export async function checkInto(into: string, live: readonly string[], component: string): Promise<void> {
  const real = await realPath(into);
  for (const place of live) {
    const target = await realPath(place);
    if (real === target || isInside(real, target) || isInside(target, real)) {
      throw new UsageError(`--into ${into} overlaps ${target}, where ${component} is restored in place.`, {
        hint: 'Give a folder apart from the live files (an empty one, e.g. /tmp/restored). Nothing was touched.',
      });
    }
  }
}

/** --into never overwrites: a different file already in DIR is refused before anything is written. */
export function refuseOverwriteInto(into: string, path: string): PreconditionError {
  return new PreconditionError(`${join(into, path)} exists and differs from the backup; --into never overwrites.`, {
    hint: 'Give an empty folder, or move that file away and run the restore again.',
  });
}

/** A selected file's target: under its root, never outside it (the archive's paths are checked already; this is the last guard). */
export function targetIn(root: string, path: string): string {
  const target = resolve(root, path);
  if (!isInside(target, resolve(root))) throw new RuntimeError(`${path} would be written outside ${root}; nothing more was written.`);
  return target;
}

/**
 * Selected files written whole beside their targets, then swapped in together: what they replace
 * is kept by `keep` (in place) or refused (--into), and a failure of the swap puts back what it
 * moved. The same staging as a whole restore (core/stagedSwap.ts).
 */
export class SelectedFiles {
  private readonly staging = new StagingArea();
  private readonly items: StagedItem[] = [];

  /** Stages `content` beside `target`, after checking again that the folders above it are plain folders. */
  async add(
    root: string,
    path: string,
    content: NodeJS.ReadableStream,
    attributes: FileAttributes,
    keep: (target: string) => Promise<string>,
    signal: AbortSignal,
  ): Promise<void> {
    const target = targetIn(root, path);
    await fileState(root, path, undefined);
    const staged = await this.staging.beside(target);
    await writeNewFile(staged, content, attributes, signal);
    this.items.push({ target, staged, keep: () => keep(target) });
  }

  abandon(error: unknown, interrupted: boolean, writing: string, unchanged: string): Promise<RuntimeError> {
    return this.staging.abandon(error, interrupted, writing, unchanged);
  }

  swapIn(description: string): Promise<SwappedItem[]> {
    return this.staging.swapIn(description, this.items);
  }
}

/** For --into: a file that appeared at a target after the plan is never replaced (the swap stops and undoes). */
export async function neverReplace(target: string): Promise<string> {
  throw new RuntimeError(`${target} appeared during the restore; --into never overwrites`);
}

/** The path through every link of the part that exists; the rest as given. */
async function realPath(path: string): Promise<string> {
  const missing: string[] = [];
  for (let existing = resolve(path); ; existing = dirname(existing)) {
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) return join(real, ...missing.reverse());
    if (dirname(existing) === existing) return resolve(path);
    missing.push(relative(dirname(existing), existing));
  }
}

function isInside(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
}
