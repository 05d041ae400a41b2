import { plural } from '../../base/format.js';
import type { Component, ComponentKind, DefinitionOrigin } from '../../core/component.js';
import { backupDirectory, matchRoots } from './backup.js';
import { examineDirectory } from './content.js';
import { directoryGroups, findDirectoryFiles } from './find.js';
import { DirectorySchema, type DirectoryDefinition } from './definition.js';
import { directoryDrill } from './drill.js';
import { FILE_SELECTORS } from '../fileSelection.js';
import { pickDirectoryFiles } from './picks.js';
import { planDirectoryRestore, restoreDirectory, type DirectoryPlan } from './restore.js';

export const directoryKind: ComponentKind<DirectoryDefinition> = {
  kind: 'directory',
  schema: DirectorySchema,
  selectors: FILE_SELECTORS,
  pickSelectors: pickDirectoryFiles,
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

    backup: (context) => backupDirectory(name, definition, context),
    planRestore: (context) => planDirectoryRestore(name, definition, origin, context),
    restore: (context, plan) => restoreDirectory(name, context, plan),
    examine: (context) => examineDirectory(name, context),
    find: (context, matches) => findDirectoryFiles(name, context, matches),
    groups: (context) => directoryGroups(name, context),
    drill: directoryDrill(name),
    selectors: FILE_SELECTORS,
  };
}
