import { createReadStream } from 'node:fs';
import { chmod, lstat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { plural } from '../../base/format.js';
import { sha256Of } from '../../integrity/sha256.js';
import type { PlanContext, RestoreContext, RestoreResult } from '../../core/component.js';
import { normalisePath } from '../../base/globMatch.js';
import { checkInto, fileState, FileTally, neverReplace, refuseOverwriteInto, SelectedFiles, type FileSelection } from '../fileSelection.js';
import { EntryAttributesSchema, splitRoot, type DirectoryDetails } from './content.js';
import { moveAside, type RootTarget } from './targets.js';
import type { DirectoryPlan } from './plan.js';

/** Files listed one by one in the dry run; the counts cover the rest. */
const LISTED_FILES = 200;

/**
 * Where a selected file of a directory component goes, and the path --files matches it by: the
 * path inside its folder, led by the folder as recorded when the component has several
 * (`docker/spool-a/run.sh`). With --into, that same path under DIR.
 */
export class DirectoryPaths {
  /** Each folder's recorded subfolders by path, made when first asked for. */
  private readonly folders = new Map<number, Map<string, RecordedFolder>>();

  constructor(
    private readonly details: DirectoryDetails,
    private readonly targets: readonly RootTarget[],
    private readonly into: string | undefined,
  ) {}

  /** The path --files matches (the folder as recorded leads when there are several). */
  selectionPath(archivePath: string): string | undefined {
    const [index, inner] = splitRoot(archivePath);
    if (!this.targets.some((entry) => entry.index === index)) return undefined;
    return this.details.roots.length === 1 ? inner : `${normalisePath(this.details.roots[index].path).replace(/^\/+/, '')}/${inner}`;
  }

  /** The folder a file is written under and its path there. */
  destination(archivePath: string): { root: string; path: string; target: RootTarget } | undefined {
    const [index, inner] = splitRoot(archivePath);
    const target = this.targets.find((entry) => entry.index === index);
    if (target === undefined) return undefined;
    if (this.into === undefined) return { root: target.target, path: inner, target };
    return { root: this.into, path: this.selectionPath(archivePath)!, target };
  }

  /** The recorded folders above a file, where they are written: a folder the restore makes gets their mode and mtime. */
  foldersAbove(archivePath: string): RecordedFolder[] {
    const [index, inner] = splitRoot(archivePath);
    const target = this.targets.find((entry) => entry.index === index);
    if (target === undefined) return [];
    const base = this.into === undefined ? target.target : join(this.into, this.selectionPath(archivePath)!.slice(0, -inner.length));
    let recorded = this.folders.get(index);
    if (recorded === undefined) {
      recorded = new Map(this.details.roots[index].folders.map((folder) => [folder.path, folder]));
      this.folders.set(index, recorded);
    }
    const segments = inner.split('/').slice(0, -1);
    return segments.flatMap((_, depth) => {
      const folder = recorded.get(segments.slice(0, depth + 1).join('/'));
      return folder === undefined ? [] : [{ path: join(base, folder.path), mode: folder.mode, mtimeMs: folder.mtimeMs }];
    });
  }
}

interface RecordedFolder {
  readonly path: string;
  readonly mode: number;
  readonly mtimeMs: number;
}

/** Folders this restore made, deepest first, given the backup's modes and mtimes (writing into them changed their mtimes). */
async function setMadeFolders(made: ReadonlyMap<string, RecordedFolder>): Promise<void> {
  for (const folder of [...made.values()].sort((a, b) => b.path.length - a.path.length)) {
    const info = await lstat(folder.path).catch(() => undefined);
    if (!info?.isDirectory()) continue; // replaced meanwhile: never followed
    await chmod(folder.path, folder.mode & 0o775);
    await utimes(folder.path, folder.mtimeMs / 1000, folder.mtimeMs / 1000);
  }
}

/** The plan of a restore of some files (--files), in place or --into a folder: counted file by file, changing nothing. */
export async function planDirectorySelection(
  name: string,
  { source }: PlanContext,
  picked: FileSelection,
  details: DirectoryDetails,
  targets: readonly RootTarget[],
): Promise<DirectoryPlan> {
  if (picked.into !== undefined)
    await checkInto(
      picked.into,
      targets.map((entry) => entry.target),
      name,
    );
  const paths = new DirectoryPaths(details, targets, picked.into);
  const tally = new FileTally(picked.patterns, name);
  const listed: string[] = [];
  const replaces: string[] = [];
  for await (const file of source.files()) {
    const selectionPath = paths.selectionPath(file.path);
    if (selectionPath === undefined || !tally.selects(selectionPath)) continue;
    const { root, path } = paths.destination(file.path)!;
    const state = await fileState(root, path, file.sha256);
    if (state === 'overwrite' && picked.into !== undefined) throw refuseOverwriteInto(picked.into, path);
    tally.count(selectionPath, state);
    const shown = join(root, path);
    if (state === 'overwrite' && replaces.length < LISTED_FILES) replaces.push(shown);
    if (listed.length < LISTED_FILES) {
      listed.push(
        `${shown}: ${state === 'add' ? 'new' : state === 'identical' ? 'exists, identical to the backup (left as is)' : `exists, differs (moved aside into docker/.pre-restore-<UTC stamp>/${name}/)`}`,
      );
    }
  }
  tally.refuseUnmatched(source.archiveName);
  if (tally.selected > listed.length) listed.push(`… and ${(tally.selected - listed.length).toLocaleString('en-US')} more files`);
  return {
    actions: [...tally.lines(), ...listed],
    replaces,
    warnings: [],
    details,
    targets,
    picked,
    selection: tally.impact(picked.into),
  };
}

/**
 * The selected files, each written whole beside its target, then all swapped in together: a
 * file they replace is moved into docker/.pre-restore-<stamp>/<name>/<folder>/<path>, and put
 * back when the swap fails. A file already identical to the backup is left as it is.
 */
export async function restoreDirectorySelection(
  name: string,
  { source, aside, progress, signal }: RestoreContext,
  plan: DirectoryPlan,
  picked: FileSelection,
): Promise<RestoreResult> {
  const paths = new DirectoryPaths(plan.details, plan.targets, picked.into);
  const tally = new FileTally(picked.patterns, name);
  const files = new SelectedFiles();
  const attributes = source.files()[Symbol.asyncIterator]();
  const made = new Map<string, RecordedFolder>();
  let identical = 0;
  try {
    for await (const entry of source.entries()) {
      signal.throwIfAborted();
      const next = await attributes.next();
      const file = next.done ? undefined : next.value;
      const selectionPath = paths.selectionPath(entry.path);
      const destination = paths.destination(entry.path);
      if (selectionPath === undefined || destination === undefined || !tally.selects(selectionPath)) {
        entry.content.resume();
        continue;
      }
      const { root, path, target } = destination;
      if (await sameBytes(join(root, path), file?.sha256)) {
        entry.content.resume();
        identical += 1;
        continue;
      }
      const { mode, mtimeMs } = EntryAttributesSchema.parse(
        file?.path === entry.path ? file.details : { mode: 0o600, mtimeMs: Date.now() },
      );
      for (const folder of paths.foldersAbove(entry.path)) {
        if (!made.has(folder.path) && (await lstat(folder.path).catch(() => undefined)) === undefined) made.set(folder.path, folder);
      }
      const keep = picked.into === undefined ? (at: string) => moveAside(aside, at, name, String(target.index), path) : neverReplace;
      await files.add(root, path, entry.content, { mode: mode & 0o775, mtimeMs }, keep, signal);
      progress.advance(entry.size);
    }
  } catch (error) {
    const where = picked.into ?? plan.targets.map((entry) => entry.shown).join(', ');
    throw await files.abandon(
      error,
      signal.aborted,
      `the selected files of ${name} beside their targets`,
      `no file of ${where} was replaced`,
    );
  }
  const swapped = await files.swapIn(`swapping the selected files of ${name} in`);
  await setMadeFolders(made);
  const kept = swapped.filter((entry) => entry.kept !== undefined).length;
  const parts = [`${plural(swapped.length, 'file')} written${picked.into === undefined ? '' : ` into ${picked.into}`}`];
  if (identical > 0) parts.push(`${identical} identical left as they were`);
  if (kept > 0) parts.push(`${kept} replaced kept in ${aside.displayPath}/${name}/`);
  return { summary: parts.join(', ') };
}

async function sameBytes(path: string, sha256: string | undefined): Promise<boolean> {
  if (sha256 === undefined) return false;
  const info = await lstat(path).catch(() => undefined);
  return info?.isFile() === true && (await sha256Of(createReadStream(path))) === sha256;
}
