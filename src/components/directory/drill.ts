import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { plural } from '../../base/format.js';
import { sha256Of as sha256 } from '../../integrity/sha256.js';
import type { DrillCheck, DrillSupport } from '../../core/component.js';
import { fileSelection, FileTally } from '../fileSelection.js';
import { directoryDetails, splitRoot } from './content.js';
import { DirectoryPaths } from './selection.js';
import { rootTarget } from './targets.js';

/** A directory in a drill: restored into the drill's folder, every file compared with the archive's. */
export function directoryDrill(name: string): DrillSupport {
  return {
    checksSelection: true,
    /**
     * Every file restored into the drill's folder byte-identical to the archive's; in a selective
     * drill, every selected file, and no other file of the archive written.
     */
    async check({ project, source, selection }) {
      const details = directoryDetails(source, name);
      const picked = fileSelection(selection);
      const tally = picked && new FileTally(picked.patterns, name);
      const targets = details.roots.map((root, index) => {
        const target = rootTarget(project, root.path);
        return { index, target, shown: target, exists: true, outside: false };
      });
      const paths = new DirectoryPaths(details, targets, undefined);
      const differing: string[] = [];
      const written: string[] = [];
      let others = 0;
      let files = 0;
      for await (const entry of source.entries()) {
        const [index, path] = splitRoot(entry.path);
        const restored = join(targets[index].target, path);
        const shown = posix.join(details.roots[index].path, path);
        const selectionPath = paths.selectionPath(entry.path);
        if (tally && (selectionPath === undefined || !tally.selects(selectionPath))) {
          entry.content.resume();
          if (await lstat(restored).catch(() => undefined)) {
            others += 1;
            if (written.length < 3) written.push(shown);
          }
          continue;
        }
        files += 1;
        const [archived, found] = await Promise.all([sha256(entry.content), sha256(createReadStream(restored)).catch(() => 'missing')]);
        if (archived !== found) differing.push(`${shown}${found === 'missing' ? ' (missing)' : ''}`);
      }
      const checks: DrillCheck[] = [
        {
          name: tally ? 'selected files byte-identical to the archive' : 'files byte-identical to the archive',
          ok: differing.length === 0,
          expected: plural(files, 'file'),
          measured: differing.length === 0 ? `${files} identical` : `differ: ${differing.slice(0, 3).join(', ')}`,
        },
      ];
      if (tally) {
        checks.push({
          name: 'no file outside the selection written',
          ok: others === 0,
          expected: 'none',
          measured: others === 0 ? 'none' : `${plural(others, 'file')}: ${written.join(', ')}`,
        });
      }
      return checks;
    },
  };
}
