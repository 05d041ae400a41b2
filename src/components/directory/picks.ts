import { normalisePath } from '../../base/globMatch.js';
import type { PickedItem, PickedSelectors } from '../../core/component.js';
import { pickFiles } from '../filePicks.js';
import { DirectoryDetailsSchema } from './content.js';

/**
 * `--files` for picks of a directory component: with several folders, a path is led by its folder
 * as recorded (as --files matches it, see DirectoryPaths.selectionPath), and a whole folder is that folder.
 */
export function pickDirectoryFiles(picks: readonly PickedItem[], details: unknown): PickedSelectors {
  const parsed = DirectoryDetailsSchema.safeParse(details);
  const several = parsed.success && parsed.data.roots.length > 1;
  return pickFiles(picks, several ? (group) => normalisePath(group).replace(/^\/+/, '') : undefined);
}
