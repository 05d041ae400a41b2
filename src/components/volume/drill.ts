import { RuntimeError } from '../../base/errors.js';
import type { DrillSupport } from '../../core/component.js';
import { contentEntries, entriesText, tarListing } from './content.js';
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
    /** The copy's folder, read back through the archive API, entry for entry as the archive holds it. */
    async check({ project, services, source }) {
      const target = await resolveTarget(project, services, name, definition);
      const restored = await services.docker().getArchive(target.container, `${target.path}/.`);
      if (!restored) throw new RuntimeError(`${target.path} is missing in ${target.container} after the restore.`);
      const found = await tarListing(restored);
      let expected = new Map<string, string>();
      for await (const entry of contentEntries(source)) expected = await tarListing(entry.content);
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
