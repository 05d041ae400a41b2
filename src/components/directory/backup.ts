import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { glob } from 'tinyglobby';
import type { z } from 'zod';
import { PreconditionError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import type { BackupContext, BackupResult } from '../../core/component.js';
import type { Project } from '../../model/project.js';
import type { ComponentShape } from '../../model/shape.js';
import type { DirectoryDetails, FolderSchema } from './content.js';
import type { DirectoryDefinition } from './definition.js';
import { outermostFolders, rootTarget } from './targets.js';

/** Every file of the matched folders, with the modes and mtimes of files and folders. */
export async function backupDirectory(
  name: string,
  definition: DirectoryDefinition,
  { project, sink, progress, signal }: BackupContext,
): Promise<BackupResult> {
  const roots = await matchRoots(project, definition.path);
  if (roots.length === 0) throw new PreconditionError(`no folder matches ${definition.path} (component ${name}).`);
  const recorded: DirectoryDetails['roots'] = [];
  let files = 0;
  let skipped: string[] = [];
  const groups: ComponentShape['groups'] = {};
  for (const [index, root] of roots.entries()) {
    const absolute = rootTarget(project, root);
    const group = (groups[root] = { items: 0, bytes: 0 });
    const info = await lstat(absolute);
    const folders: z.infer<typeof FolderSchema>[] = [];
    const walked = await walkFolder(absolute, '', async (path, file) => {
      signal.throwIfAborted();
      const attributes = { mode: file.mode & 0o7777, mtimeMs: file.mtimeMs };
      await sink.addFile(`${index}/${path}`, file.size, createReadStream(join(absolute, path), { signal }), {
        details: () => attributes,
      });
      files += 1;
      group.items += 1;
      group.bytes += file.size;
    });
    folders.push(...walked.folders);
    skipped = [...skipped, ...walked.skipped.map((path) => posix.join(root, path))];
    recorded.push({ path: root, mode: info.mode & 0o7777, mtimeMs: info.mtimeMs, folders });
  }
  if (skipped.length > 0)
    progress.note(
      `not copied (links, special files or names with a backslash): ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? '…' : ''}`,
    );
  return {
    details: { definition: { kind: 'directory', ...definition }, roots: recorded },
    summary: `${plural(files, 'file')} in ${plural(roots.length, 'folder')}${skipped.length > 0 ? `; ${skipped.length} links, special files or names with a backslash not copied` : ''}`,
    shape: { items: 'files', group: 'folder', groups },
  };
}

/**
 * The folders the definition matches now, sorted: relative to the project, or absolute when it
 * is. A folder inside another match is left to it (its files are backed up once).
 */
export async function matchRoots(project: Project, pattern: string): Promise<string[]> {
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
    // An archive refuses a name with a backslash (a separator where tar readers take one), so it is left out and listed.
    if (entry.name.includes('\\')) walked.skipped.push(path);
    else if (entry.isDirectory()) {
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
