import { RuntimeError } from '../../base/errors.js';
import { plural } from '../../base/format.js';
import type { DrillCheck, DrillSupport } from '../../core/component.js';
import { fileSelection, FileTally } from '../fileSelection.js';
import { contentEntries, contentPath, entriesText, tarListing } from './content.js';
import type { VolumeDefinition } from './definition.js';
import { pathSetting, resolveTarget } from './target.js';

/** A volume in a drill: a copy of the container that mounts it, its folder compared entry for entry with the archive. */
export function volumeDrill(name: string, definition: VolumeDefinition): DrillSupport {
  return {
    container: {
      defaultName: definition.container ?? '',
      /** The live container that mounts the folder, copied with that folder in a volume of the drill's own. */
      async live({ project, services }) {
        const target = await resolveTarget(project, services, name, definition);
        return { container: target.container, volumes: [target.path], settings: { [pathSetting(name)]: target.path } };
      },
    },
    checksSelection: true,
    /**
     * The copy's folder, read back through the archive API, entry for entry as the archive holds
     * it; in a selective drill, every selected file so, and no other file of the folder written.
     */
    async check({ project, services, source, selection }) {
      const target = await resolveTarget(project, services, name, definition);
      const restored = await services.docker().getArchive(target.container, `${target.path}/.`);
      if (!restored) throw new RuntimeError(`${target.path} is missing in ${target.container} after the restore.`);
      const found = await tarListing(restored);
      let expected = new Map<string, string>();
      for await (const entry of contentEntries(source)) expected = await tarListing(entry.content);
      const picked = fileSelection(selection);
      if (picked) return selectedChecks(new FileTally(picked.patterns, name), expected, found);
      const differing = [...expected].filter(([path, facts]) => found.get(path) !== facts).map(([path]) => path);
      const extra = [...found.keys()].filter((path) => !expected.has(path));
      const wrong = [...differing, ...extra.map((path) => `${path} (not in the backup)`)];
      return [
        {
          name: 'folder identical to the archive (type, mode, owner, size, mtime, content)',
          ok: wrong.length === 0,
          expected: entriesText(expected.size),
          measured: wrong.length === 0 ? `all ${found.size} identical` : `${wrong.length} differ: ${wrong.slice(0, 3).join(', ')}`,
        },
      ];
    },
  };
}

/** A regular file's line of a listing (`File 644 0:0 …`): folders the selection passes through are not files it wrote. */
function isFileFacts(facts: string): boolean {
  return /^(?:File|OldFile|ContiguousFile) /.test(facts);
}

/** The selected files identical in the copy (type, mode, owner, size, mtime, content), and no other file there. */
function selectedChecks(tally: FileTally, expected: Map<string, string>, found: Map<string, string>): DrillCheck[] {
  const selected = (path: string, facts: string) => isFileFacts(facts) && tally.selects(contentPath(path));
  const wanted = [...expected].filter(([path, facts]) => selected(path, facts));
  const differing = wanted.filter(([path, facts]) => found.get(path) !== facts).map(([path]) => contentPath(path));
  const others = [...found].filter(([path, facts]) => isFileFacts(facts) && !selected(path, facts)).map(([path]) => contentPath(path));
  return [
    {
      name: 'selected files identical to the archive (type, mode, owner, size, mtime, content)',
      ok: differing.length === 0,
      expected: plural(wanted.length, 'file'),
      measured: differing.length === 0 ? `${wanted.length} identical` : `${differing.length} differ: ${differing.slice(0, 3).join(', ')}`,
    },
    {
      name: 'no file outside the selection written',
      ok: others.length === 0,
      expected: 'none',
      measured: others.length === 0 ? 'none' : `${plural(others.length, 'file')}: ${others.slice(0, 3).join(', ')}`,
    },
  ];
}
