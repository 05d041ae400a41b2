import { sha256Of as sha256 } from '../../integrity/sha256.js';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rename, utimes } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { PreconditionError, UsageError } from '../../base/errors.js';
import { formatBytes, plural } from '../../base/format.js';
import type {
  ArchiveReport,
  Component,
  ComponentKind,
  ComponentSource,
  DefinitionOrigin,
  ExamineContext,
  PlanContext,
  ProgressReporter,
  RestoreContext,
  RestorePlan,
  RestoreResult,
} from '../../core/component.js';
import { readDetails } from '../../core/details.js';
import type { MoveAsideFolder } from '../../core/moveAside.js';
import type { Project } from '../../core/project.js';
import { StagingArea, writeNewFile } from '../../core/stagedSwap.js';
import { normalisePath } from '../../base/globMatch.js';
import { besideTarget, outermostFolders, RESERVED_FOLDERS, resolveRoots, rootTarget, type RootTarget } from './targets.js';

/** `{ "kind": "directory", "path": "docker/marketing-spool-*" }`: folders of the project (or absolute host folders), glob allowed. */
const DirectorySchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .refine((path) => path.split('/').every((segment) => segment !== '..'), 'a folder glob never climbs out with ".."')
    .refine(
      (path) => !['', '.', '/', ...RESERVED_FOLDERS].includes(normalisePath(path)),
      `name folders inside the project or docker/ (docker/data), not the project, ${RESERVED_FOLDERS.map((folder) => `${folder}/`).join(', ')} or / itself`,
    ),
  title: z.string().min(1).optional(),
});
type DirectoryDefinition = z.infer<typeof DirectorySchema>;

const EntryAttributesSchema = z.object({ mode: z.number().int().nonnegative(), mtimeMs: z.number() });
const FolderSchema = EntryAttributesSchema.extend({ path: z.string() });
const DirectoryDetailsSchema = z.object({
  definition: z.looseObject({ kind: z.literal('directory'), path: z.string() }),
  roots: z.array(FolderSchema.extend({ folders: z.array(FolderSchema) })),
});
type DirectoryDetails = z.infer<typeof DirectoryDetailsSchema>;

interface DirectoryPlan extends RestorePlan {
  readonly details: DirectoryDetails;
  /** The recorded folders restored, each to where it goes; those inside another are restored as part of it. */
  readonly targets: readonly RootTarget[];
}

export const directoryKind: ComponentKind<DirectoryDefinition> = {
  kind: 'directory',
  schema: DirectorySchema,
  create: directoryComponent,
};

/**
 * Folders matched by a glob, file by file into `<n>/<path>` of the component (n: the matched
 * folder's place in the manifest's `roots`), with every file's and folder's mode and mtime
 * recorded. Restored by writing the backup's folder beside each target, then swapping it in whole
 * (the existing folder moved aside), so that an interrupt or a failure never leaves a mix.
 * Symbolic links and special files are not copied (counted and named in the summary).
 */
function directoryComponent(name: string, definition: DirectoryDefinition, origin: DefinitionOrigin): Component<DirectoryPlan> {
  return {
    name,
    title: definition.title ?? `${name} (folders ${definition.path})`,

    async availability({ project }) {
      const roots = await matchRoots(project, definition.path);
      if (roots.length === 0) return { available: false, reason: `no folder matches ${definition.path}` };
      return { available: true, detail: `${plural(roots.length, 'folder')} match ${definition.path}` };
    },

    async backup({ project, sink, progress, signal }) {
      const roots = await matchRoots(project, definition.path);
      if (roots.length === 0) throw new PreconditionError(`no folder matches ${definition.path} (component ${name}).`);
      const recorded: DirectoryDetails['roots'] = [];
      let files = 0;
      let skipped: string[] = [];
      for (const [index, root] of roots.entries()) {
        const absolute = rootTarget(project, root);
        const info = await lstat(absolute);
        const folders: z.infer<typeof FolderSchema>[] = [];
        const walked = await walkFolder(absolute, '', async (path, file) => {
          signal.throwIfAborted();
          const attributes = { mode: file.mode & 0o7777, mtimeMs: file.mtimeMs };
          await sink.addFile(`${index}/${path}`, file.size, createReadStream(join(absolute, path), { signal }), {
            details: () => attributes,
          });
          progress.advance(file.size);
          files += 1;
        });
        folders.push(...walked.folders);
        skipped = [...skipped, ...walked.skipped.map((path) => posix.join(root, path))];
        recorded.push({ path: root, mode: info.mode & 0o7777, mtimeMs: info.mtimeMs, folders });
      }
      if (skipped.length > 0)
        progress.note(`not copied (links or special files): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? '…' : ''}`);
      return {
        details: { definition: { kind: 'directory', ...definition }, roots: recorded },
        summary: `${plural(files, 'file')} in ${plural(roots.length, 'folder')}${skipped.length > 0 ? `; ${skipped.length} links or special files not copied` : ''}`,
      };
    },

    planRestore: (context) => planDirectoryRestore(name, definition, origin, context),
    restore: (context, plan) => restoreDirectory(name, context, plan),
    examine: (context) => examineDirectory(name, context),

    drill: {
      /** Every file restored into the drill's folder byte-identical to the archive's. */
      async check({ project, source }) {
        const details = directoryDetails(source, name);
        const differing: string[] = [];
        let files = 0;
        for await (const entry of source.entries()) {
          files += 1;
          const [index, path] = splitRoot(entry.path);
          const restored = join(rootTarget(project, details.roots[index].path), path);
          const [archived, found] = await Promise.all([sha256(entry.content), sha256(createReadStream(restored)).catch(() => 'missing')]);
          if (archived !== found)
            differing.push(`${posix.join(details.roots[index].path, path)}${found === 'missing' ? ' (missing)' : ''}`);
        }
        return [
          {
            name: 'files byte-identical to the archive',
            ok: differing.length === 0,
            expected: plural(files, 'file'),
            measured: differing.length === 0 ? `${files} identical` : `differ: ${differing.slice(0, 3).join(', ')}`,
          },
        ];
      },
    },
  };
}

async function planDirectoryRestore(
  name: string,
  definition: DirectoryDefinition,
  origin: DefinitionOrigin,
  { project, source }: PlanContext,
): Promise<DirectoryPlan> {
  const details = directoryDetails(source, name);
  const counts = await checkFiles(source, name, details);
  const { targets, nested } = await resolveRoots({
    project,
    name,
    archiveName: source.archiveName,
    declared: origin === 'project' ? definition.path : undefined,
    roots: details.roots,
  });
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
  if (origin === 'archive') {
    warnings.unshift(
      `${name} is not declared in this project's orkestra-backup.json: restored as the archive defines it (directory ${details.definition.path})`,
    );
    for (const { shown } of targets.filter((target) => target.outside))
      warnings.push(`${shown} is outside the project folder (allowed by --allow-outside-project)`);
  }
  return { actions, replaces, warnings, details, targets };
}

/** Every folder written whole beside its target, then all swapped in together (see StagingArea). */
async function restoreDirectory(
  name: string,
  { source, aside, progress, signal }: RestoreContext,
  plan: DirectoryPlan,
): Promise<RestoreResult> {
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
    items.map(({ entry, folder }) => ({ target: entry.target, staged: folder, keep: () => keepFolder(aside, name, entry) })),
  );
  const kept = swapped.flatMap((entry) => (entry.kept === undefined ? [] : [entry.kept]));
  return {
    summary: `${plural(written, 'file')} into ${plural(plan.targets.length, 'folder')}${kept.length > 0 ? `; previous ${kept.length === 1 ? 'folder' : 'folders'} kept in ${kept.join(', ')}` : ''}`,
  };
}

async function examineDirectory(name: string, { source }: ExamineContext): Promise<ArchiveReport> {
  try {
    const details = directoryDetails(source, name);
    const counts = await checkFiles(source, name, details);
    const lines = details.roots.map(
      (root, index) => `${root.path}  ${plural(counts[index]?.files ?? 0, 'file')}  ${formatBytes(counts[index]?.bytes ?? 0)}`,
    );
    return {
      facts: { definition: details.definition, roots: details.roots.map((root) => root.path), counts },
      lines: [`directory ${details.definition.path}`, ...lines],
      problems: [],
    };
  } catch (error) {
    return { facts: {}, lines: [], problems: [(error as Error).message] };
  }
}

/**
 * The folders the definition matches now, sorted: relative to the project, or absolute when it
 * is. A folder inside another match is left to it (its files are backed up once).
 */
async function matchRoots(project: Project, pattern: string): Promise<string[]> {
  const absolute = isAbsolute(pattern);
  const found = await glob(absolute ? pattern.replace(/^\/+/, '') : pattern, {
    cwd: absolute ? '/' : project.dir,
    onlyDirectories: true,
    dot: true,
    expandDirectories: false,
    followSymbolicLinks: false,
  });
  return outermostFolders(
    project,
    pattern,
    found.map((path) => `${absolute ? '/' : ''}${path.replace(/\/+$/, '')}`),
  );
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

/** Moves the current folder into docker/.pre-restore-<stamp>/<name>/<index>/, or beside it when that is another filesystem. */
async function keepFolder(aside: MoveAsideFolder, name: string, { index, target }: RootTarget): Promise<string> {
  const kept = await aside.pathFor(name, String(index));
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

interface Walked {
  folders: z.infer<typeof FolderSchema>[];
  skipped: string[];
}

async function walkFolder(
  base: string,
  relative: string,
  onFile: (path: string, info: { size: number; mode: number; mtimeMs: number }) => Promise<void>,
  walked: Walked = { folders: [], skipped: [] },
): Promise<Walked> {
  const entries = await readdir(join(base, relative), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const info = await lstat(join(base, path));
      walked.folders.push({ path, mode: info.mode & 0o7777, mtimeMs: info.mtimeMs });
      await walkFolder(base, path, onFile, walked);
    } else if (entry.isFile()) {
      await onFile(path, await lstat(join(base, path)));
    } else {
      walked.skipped.push(path);
    }
  }
  return walked;
}

function directoryDetails(source: ComponentSource, name: string): DirectoryDetails {
  const details = readDetails(DirectoryDetailsSchema, source, name);
  if (!details) throw damaged(source, `the manifest holds no valid record of ${name}'s folders`);
  for (const root of details.roots) {
    if (!isSafeRoot(root.path)) throw damaged(source, `${name} names the folder ${JSON.stringify(root.path)}, which is not a plain path`);
    for (const folder of root.folders) {
      if (!isSafeRelative(folder.path))
        throw damaged(source, `${name} names the folder ${JSON.stringify(folder.path)} inside ${root.path}`);
    }
  }
  return details;
}

/** Every file lies inside one of the recorded folders, by a plain relative path; counts per folder. */
async function checkFiles(source: ComponentSource, name: string, details: DirectoryDetails): Promise<{ files: number; bytes: number }[]> {
  const counts = details.roots.map(() => ({ files: 0, bytes: 0 }));
  for await (const file of source.files()) {
    const [index, path] = splitRoot(file.path);
    if (!(index in counts) || !isSafeRelative(path)) throw damaged(source, `${name}/${file.path} is not inside one of its folders`);
    counts[index].files += 1;
    counts[index].bytes += file.size;
  }
  return counts;
}

function splitRoot(path: string): [number, string] {
  const slash = path.indexOf('/');
  return slash > 0 && /^\d+$/.test(path.slice(0, slash)) ? [Number(path.slice(0, slash)), path.slice(slash + 1)] : [-1, path];
}

function isSafeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** A recorded folder: relative (inside the project) or absolute, never climbing out with `..`. */
function isSafeRoot(path: string): boolean {
  return isSafeRelative(path.replace(/^\/+/, '')) && !path.includes('\0');
}

function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}
