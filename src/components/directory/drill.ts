import { createReadStream } from 'node:fs';
import { join, posix } from 'node:path';
import { plural } from '../../base/format.js';
import { sha256Of as sha256 } from '../../integrity/sha256.js';
import type { DrillSupport } from '../../core/component.js';
import { directoryDetails, splitRoot } from './content.js';
import { rootTarget } from './targets.js';

/** A directory in a drill: restored into the drill's folder, every file compared with the archive's. */
export function directoryDrill(name: string): DrillSupport {
  return {
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
        if (archived !== found) differing.push(`${posix.join(details.roots[index].path, path)}${found === 'missing' ? ' (missing)' : ''}`);
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
  };
}
