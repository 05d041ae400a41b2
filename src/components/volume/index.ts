import { pipeline } from 'node:stream/promises';
import { OrkestraError, RuntimeError } from '../../base/errors.js';
import { formatBytes, withoutFinalPeriod } from '../../base/format.js';
import type { Component, ComponentKind, DefinitionOrigin } from '../../core/component.js';
import { readDetails } from '../../archive/componentDetails.js';
import { checkContentOnly, CONTENT_ENTRY, countContent, entriesText, tallyingTar, VolumeDetailsSchema, type TarTally } from './content.js';
import { volumeDrill } from './drill.js';
import { findVolumeFiles, volumeGroups } from './find.js';
import { planVolumeRestore, restoreVolume, type VolumePlan } from './restore.js';
import { describedVolume, VolumeSchema, type VolumeDefinition } from './definition.js';
import { resolveTarget } from './target.js';
import { FILE_SELECTORS, fileSelection } from '../fileSelection.js';
import { pickFiles } from '../filePicks.js';
import { planVolumeSelection, restoreVolumeSelection, type VolumeSelectionPlan } from './selection.js';

export const volumeKind: ComponentKind<VolumeDefinition> = {
  kind: 'volume',
  schema: VolumeSchema,
  selectors: FILE_SELECTORS,
  pickSelectors: (picks) => pickFiles(picks),
  create: volumeComponent,
};

/**
 * A Docker named volume, or a folder inside a named container: copied out through the Engine
 * API's archive endpoint (as `docker cp` does: modes, owners, mtimes, names as they are) into one
 * `content.tar`; restored with the container stopped — its current content kept aside as a tar
 * file, the folder emptied by a one-off container that mounts the same volumes, the backup's
 * content copied in with its owners — and started again, also when the copy fails.
 */
function volumeComponent(
  name: string,
  definition: VolumeDefinition,
  origin: DefinitionOrigin,
): Component<VolumePlan | VolumeSelectionPlan> {
  return {
    name,
    title: definition.title ?? `${name} (${describedVolume(definition)})`,

    async availability({ project, services }) {
      try {
        const target = await resolveTarget(project, services, name, definition);
        return { available: true, detail: target.how };
      } catch (error) {
        if (error instanceof OrkestraError) return { available: false, reason: withoutFinalPeriod(error.message) };
        throw error;
      }
    },

    async backup({ project, services, sink, progress }) {
      const target = await resolveTarget(project, services, name, definition);
      progress.note(target.how);
      const content = await services.docker().getArchive(target.container, `${target.path}/.`);
      if (!content) throw new RuntimeError(`${target.path} does not exist in ${target.container}.`);
      const tally: TarTally = { files: 0, bytes: 0, unreadable: false };
      const tallied = tallyingTar(tally);
      pipeline(content, tallied).catch(() => undefined); // a failed copy surfaces through `tallied`
      await sink.addStream(CONTENT_ENTRY, tallied);
      return {
        details: { definition: { kind: 'volume', ...definition }, container: target.container, path: target.path },
        summary: `${target.path} of ${target.container}`,
        shape: tally.unreadable
          ? undefined
          : { items: 'files', group: 'folder', groups: { [target.path]: { items: tally.files, bytes: tally.bytes } } },
      };
    },

    planRestore(context) {
      const picked = fileSelection(context.selection);
      if (picked === undefined) return planVolumeRestore(name, definition, origin, context);
      return planVolumeSelection(name, definition, context, picked);
    },
    restore: (context, plan) => ('picked' in plan ? restoreVolumeSelection(name, context, plan) : restoreVolume(name, context, plan)),
    drill: volumeDrill(name, definition),
    find: (context, matches) => findVolumeFiles(name, context, matches),
    groups: (context) => volumeGroups(name, context),
    selectors: FILE_SELECTORS,

    async examine({ source }) {
      const problems: string[] = [];
      const details = readDetails(VolumeDetailsSchema, source, name);
      if (!details) problems.push(`the manifest holds no valid record of ${name}`);
      try {
        await checkContentOnly(source, name);
        const counted = await countContent(source, name);
        return {
          facts: { container: details?.container, path: details?.path, entries: counted.entries, bytes: counted.bytes },
          lines: [`${details?.container ?? '?'}:${details?.path ?? '?'}  ${entriesText(counted.entries)}  ${formatBytes(counted.bytes)}`],
          problems,
        };
      } catch (error) {
        problems.push(withoutFinalPeriod((error as Error).message));
        return { facts: {}, lines: [], problems };
      }
    },
  };
}
