import { chmod, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes, plural } from '../../base/format.js';
import type { ComponentSource } from '../../archive/componentSource.js';
import type { DefinitionOrigin, PlanContext, RestoreContext, RestoreResult } from '../../core/component.js';
import type { ProgressReporter } from '../../model/progress.js';
import { StagingArea, writeNewFile } from '../../core/stagedSwap.js';
import { checkFiles, directoryDetails, splitRoot, type DirectoryDetails, EntryAttributesSchema } from './content.js';
import type { DirectoryDefinition } from './definition.js';
import { moveAside, resolveRoots, type RootTarget } from './targets.js';
import { fileSelection } from '../fileSelection.js';
import type { DirectoryPlan } from './plan.js';
import { planDirectorySelection, restoreDirectorySelection } from './selection.js';

export type { DirectoryPlan } from './plan.js';

export async function planDirectoryRestore(
  name: string,
  definition: DirectoryDefinition,
  origin: DefinitionOrigin,
  context: PlanContext,
): Promise<DirectoryPlan> {
  const { project, source } = context;
  const details = directoryDetails(source, name);
  const counts = await checkFiles(source, name, details);
  const { targets, nested } = await resolveRoots({
    project,
    name,
    archiveName: source.archiveName,
    declared: origin === 'project' ? definition.path : undefined,
    roots: details.roots,
  });
  const picked = fileSelection(context.selection);
  if (picked !== undefined)
    return withOrigin(name, origin, details, targets, await planDirectorySelection(name, context, picked, details, targets));
  const actions: string[] = [];
  const replaces: string[] = [];
  for (const { index, shown, exists } of targets) {
    const what = `${plural(counts[index]?.files ?? 0, 'file')}, ${formatBytes(counts[index]?.bytes ?? 0)}`;
    actions.push(
      exists
        ? `${shown} (${what}): written beside it, then swapped in whole; the current folder is moved aside into docker/.pre-restore-<UTC stamp>/${name}/${index}/`
        : `${shown} (${what}): does not exist yet; it will be created`,
    );
    replaces.push(exists ? `${shown} (moved aside whole and replaced)` : `${shown} (does not exist yet: created)`);
  }
  const warnings = nested.map(({ path, within }) => `${path} lies inside ${within}: its files are restored as part of it`);
  return withOrigin(name, origin, details, targets, { actions, replaces, warnings, details, targets });
}

/** The warnings of a component only the archive defines. */
function withOrigin(
  name: string,
  origin: DefinitionOrigin,
  details: DirectoryDetails,
  targets: readonly RootTarget[],
  plan: DirectoryPlan,
): DirectoryPlan {
  if (origin !== 'archive') return plan;
  const warnings = [
    `${name} is not declared in this project's orkestra-backup.json: restored as the archive defines it (directory ${details.definition.path})`,
    ...plan.warnings,
  ];
  for (const { shown } of targets.filter((target) => target.outside))
    warnings.push(`${shown} is outside the project folder (allowed by --allow-outside-project)`);
  return { ...plan, warnings };
}

/** Every folder written whole beside its target, then all swapped in together (see StagingArea). */
export async function restoreDirectory(name: string, context: RestoreContext, plan: DirectoryPlan): Promise<RestoreResult> {
  if (plan.picked !== undefined) return restoreDirectorySelection(name, context, plan, plan.picked);
  const { source, aside, progress, signal } = context;
  const staging = new StagingArea();
  const items: { entry: RootTarget; folder: string }[] = [];
  const staged = new Map<number, string>();
  let written: number;
  try {
    for (const entry of plan.targets) {
      const folder = await staging.folderBeside(entry.target);
      items.push({ entry, folder });
      staged.set(entry.index, folder);
    }
    written = await writeFiles(source, staged, staging, progress, signal);
    await setFolderAttributes(plan.details, staged, staging);
  } catch (error) {
    throw await staging.abandon(
      error,
      signal.aborted,
      `the restored copy beside ${plan.targets.map((entry) => entry.shown).join(', ')}`,
      'no folder was replaced: each is as it was',
    );
  }
  const swapped = await staging.swapIn(
    `swapping the restored folders of ${name} in`,
    items.map(({ entry, folder }) => ({
      target: entry.target,
      staged: folder,
      keep: () => moveAside(aside, entry.target, name, String(entry.index)),
    })),
  );
  const kept = swapped.flatMap((entry) => (entry.kept === undefined ? [] : [entry.kept]));
  return {
    summary: `${plural(written, 'file')} into ${plural(plan.targets.length, 'folder')}${kept.length > 0 ? `; previous ${kept.length === 1 ? 'folder' : 'folders'} kept in ${kept.join(', ')}` : ''}`,
  };
}

/** Modes restored are never setuid, setgid or sticky, and never writable by everyone. */
function safeMode(mode: number): number {
  return mode & 0o775;
}

/**
 * Every file of the archive into the staged copy of its folder; files of a folder restored as
 * part of another are skipped. Each file is created new (never through a link at its name) and
 * given its mode and mtime through its own handle; the staged folder is checked before each.
 */
async function writeFiles(
  source: ComponentSource,
  staged: ReadonlyMap<number, string>,
  staging: StagingArea,
  progress: ProgressReporter,
  signal: AbortSignal,
): Promise<number> {
  const attributes = source.files()[Symbol.asyncIterator]();
  let written = 0;
  for await (const entry of source.entries()) {
    signal.throwIfAborted();
    const next = await attributes.next();
    const file = next.done ? undefined : next.value;
    const [index, path] = splitRoot(entry.path);
    const folder = staged.get(index);
    if (folder === undefined) {
      entry.content.resume();
      continue;
    }
    const { mode, mtimeMs } = EntryAttributesSchema.parse(file?.path === entry.path ? file.details : { mode: 0o600, mtimeMs: Date.now() });
    await staging.checkFolder(folder);
    const destination = join(folder, path);
    await mkdir(join(destination, '..'), { recursive: true, mode: 0o700 });
    await writeNewFile(destination, entry.content, { mode: safeMode(mode), mtimeMs }, signal);
    progress.advance(entry.size);
    written += 1;
  }
  return written;
}

/** Folders last, deepest first: writing files into them changed their mtimes. */
async function setFolderAttributes(details: DirectoryDetails, staged: ReadonlyMap<number, string>, staging: StagingArea): Promise<void> {
  for (const [index, folder] of staged) {
    await staging.checkFolder(folder);
    const root = details.roots[index];
    for (const inner of [...root.folders].sort((a, b) => b.path.length - a.path.length)) {
      const path = join(folder, inner.path);
      await mkdir(path, { recursive: true, mode: 0o700 });
      await chmod(path, safeMode(inner.mode));
      await utimes(path, inner.mtimeMs / 1000, inner.mtimeMs / 1000);
    }
    await chmod(folder, safeMode(root.mode));
    await utimes(folder, root.mtimeMs / 1000, root.mtimeMs / 1000);
  }
}
