import { lstat, realpath, rename } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { PreconditionError, UsageError } from '../../base/errors.js';
import { matchesGlob } from '../../base/globMatch.js';
import type { Project } from '../../model/project.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';

/** The setting `--allow-outside-project` stands for: an undeclared component may write outside the project folder. */
const ALLOW_OUTSIDE_PROJECT = 'ORKESTRA_ALLOW_OUTSIDE_PROJECT';

/**
 * The project's own folders, never a directory component's (nor any folder holding one): refused
 * in orkestra-backup.json, in what a glob matches at backup, and in what an archive names.
 */
export const RESERVED_FOLDERS = ['docker', 'backups'] as const;

const RESERVED_BECAUSE: Record<(typeof RESERVED_FOLDERS)[number], string> = {
  docker: "the project's docker/ folder (its secrets and the restores' kept copies)",
  backups: "the project's backups/ folder",
};

/** A folder of a directory component as the archive records it (relative to the project, or absolute). */
export interface RecordedRoot {
  readonly path: string;
}

/** Where one recorded folder is restored. */
export interface RootTarget {
  /** Its place in the manifest's `roots` (its files are `<index>/<path>` in the archive). */
  readonly index: number;
  /** Where it is written. */
  readonly target: string;
  /** The full path, through any link above it: what the operator reads in the dry run and at the gate. */
  readonly shown: string;
  readonly exists: boolean;
  readonly outside: boolean;
}

export interface ResolvedRoots {
  readonly targets: readonly RootTarget[];
  /** Folders recorded inside another recorded folder (an archive whose roots nest): restored as part of it. */
  readonly nested: readonly { index: number; path: string; within: string }[];
}

interface ResolveOptions {
  readonly project: Project;
  readonly name: string;
  readonly archiveName: string;
  /** The project's own glob for this component; undefined when only the archive defines it. */
  readonly declared?: string;
  readonly roots: readonly RecordedRoot[];
}

/**
 * Where each folder of the archive goes, refused before anything changes (exit 2) when: the
 * project declares the component and its glob does not match the folder (an archive never
 * chooses where a declared component writes); the folder is the project's, its docker/ or
 * backups/ folder, or holds one of them; or, for a component only the archive defines, the
 * folder lies outside the project folder without --allow-outside-project.
 */
export async function resolveRoots(options: ResolveOptions): Promise<ResolvedRoots> {
  const { project, name, archiveName, declared, roots } = options;
  const projectDir = await realPath(project.dir);
  const resolved: { index: number; path: string; target: string; shown: string }[] = [];
  for (const [index, root] of roots.entries()) {
    if (declared !== undefined && !matchesGlob(root.path, declared)) {
      throw new UsageError(
        `${archiveName}: ${name} holds the folder ${root.path}, which this project's declaration (${declared}) does not match.`,
        {
          hint: 'A declared component is restored only into folders its declaration matches: fix orkestra-backup.json or use an archive of this project. Nothing was touched.',
        },
      );
    }
    const target = rootTarget(project, root.path);
    const shown = await realPath(target);
    const reserved = reservedFolder(projectDir, shown) ?? reservedFolder(project.dir, target);
    if (reserved) {
      throw new UsageError(`${archiveName}: ${name} names the folder ${root.path} (${shown}), ${reserved}.`, {
        hint: 'A directory component never replaces it; the archive is damaged or not made for this project. Nothing was touched.',
      });
    }
    resolved.push({ index, path: root.path, target, shown });
  }
  const targets: RootTarget[] = [];
  const nested: { index: number; path: string; within: string }[] = [];
  // Outer folders first, so that a folder inside another is found to be so.
  for (const { index, path, target, shown } of [...resolved].sort((a, b) => a.shown.length - b.shown.length)) {
    const within = targets.find((other) => shown === other.shown || isInside(shown, other.shown));
    if (within) {
      nested.push({ index, path, within: roots[within.index].path });
      continue;
    }
    const info = await lstat(target).catch(() => undefined);
    if (info && !info.isDirectory()) {
      throw new PreconditionError(`${shown} is not a folder; the backup of ${name} has a folder there.`, {
        hint: 'Move it away and run the restore again.',
      });
    }
    targets.push({ index, target, shown, exists: info !== undefined, outside: !isInside(shown, projectDir) });
  }
  targets.sort((a, b) => a.index - b.index);
  const outside = targets.filter((entry) => entry.outside);
  if (declared === undefined && outside.length > 0 && project.setting(ALLOW_OUTSIDE_PROJECT) !== 'yes') {
    throw new UsageError(
      `${name} (defined only by ${archiveName}) would write outside the project folder ${projectDir}: ${outside.map((entry) => entry.shown).join(', ')}.`,
      { hint: 'Check these folders, then pass --allow-outside-project to restore there. Nothing was touched.' },
    );
  }
  return { targets, nested };
}

/** Why a folder may not be a directory component's, or undefined when it may. */
function reservedFolder(projectDir: string, folder: string): string | undefined {
  if (folder === projectDir) return 'which is the project folder itself';
  const reserved = RESERVED_FOLDERS.find((name) => folder === join(projectDir, name));
  if (reserved) return `which is ${RESERVED_BECAUSE[reserved]}`;
  if (isInside(projectDir, folder)) return 'which holds the project folder';
  return undefined;
}

/**
 * The folders a glob matched that are a directory component's own: none inside another (a
 * `**` glob matches `docker/data` and everything under it; the outermost holds the rest), none
 * that is or holds the project, docker/ or backups/ folder.
 */
export function outermostFolders(project: Project, pattern: string, found: readonly string[]): string[] {
  const folders = [...new Set(found)].sort();
  for (const folder of folders) {
    const reserved = reservedFolder(project.dir, rootTarget(project, folder));
    if (reserved) {
      throw new UsageError(`${pattern} matches ${folder}, ${reserved}.`, {
        hint: 'Declare the folders to back up inside it (docker/data, not docker) in orkestra-backup.json.',
      });
    }
  }
  return folders.filter((folder) => !folders.some((other) => isInside(folder, other)));
}

/** Where a recorded folder goes: under the project, or the host path (a drill's folder stands in for the host). */
export function rootTarget(project: Project, root: string): string {
  if (!isAbsolute(root)) return join(project.dir, root);
  return project.hostRoot ? join(project.hostRoot, root) : root;
}

/** The current folder moves aside into docker/.pre-restore-<stamp>/; on another filesystem, it stays beside the target. */
export function besideTarget(target: string, asideFolder: string): string {
  return join(dirname(target), `.${basename(target)}${basename(asideFolder)}`);
}

/**
 * Moves a replaced file or folder into docker/.pre-restore-<stamp>/<segments…>, or beside it
 * when that is another filesystem; returns where it went.
 */
export async function moveAside(aside: MoveAsideFolder, target: string, ...segments: string[]): Promise<string> {
  const kept = await aside.pathFor(...segments);
  try {
    await rename(target, kept);
    return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const beside = besideTarget(target, aside.displayPath);
    await rename(target, beside);
    return beside;
  }
}

function isInside(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
}

/** The path through every link of the part that exists; the rest as given. */
async function realPath(path: string): Promise<string> {
  const missing: string[] = [];
  for (let existing = path; ; existing = dirname(existing)) {
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) return join(real, ...missing);
    if (dirname(existing) === existing) return path;
    missing.unshift(basename(existing));
  }
}
