import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { PreconditionError, RuntimeError } from '../../base/errors.js';
import { formatBytes } from '../../base/format.js';
import type { DefinitionOrigin, PlanContext, RestoreContext, RestorePlan, RestoreResult } from '../../core/component.js';
import { readDetails } from '../../archive/componentDetails.js';
import { countedAsProgress } from '../../model/progress.js';
import { checkContentOnly, contentEntries, countContent, damaged, entriesText, VolumeDetailsSchema } from './content.js';
import { describedVolume, type VolumeDefinition } from './definition.js';
import { emptyingFailure, withVolumeKept } from './keptFolder.js';
import { hasShell, insideAVolume, resolveTarget, type Target } from './target.js';

export interface VolumePlan extends RestorePlan {
  readonly target: Target;
  readonly image: string;
  readonly canEmpty: boolean;
}

/** What a restore would do to the folder, found without changing anything. */
export async function planVolumeRestore(
  name: string,
  definition: VolumeDefinition,
  origin: DefinitionOrigin,
  { project, services, source }: PlanContext,
): Promise<VolumePlan> {
  const described = describedVolume(definition);
  const details = readDetails(VolumeDetailsSchema, source, name);
  if (!details) throw damaged(source, `the manifest holds no valid record of ${name}`);
  await checkContentOnly(source, name);
  const counted = await countContent(source, name);
  const target = await resolveTarget(project, services, name, definition);
  const docker = services.docker();
  const blueprint = await docker.blueprint(target.container);
  if (!blueprint) throw new PreconditionError(`no container named ${target.container}.`);
  const canEmpty = (await insideAVolume(services, target)) && (await hasShell(services, target.container));
  const actions = [
    `${target.how}`,
    `${target.running ? 'stop' : 'with'} ${target.container}${target.running ? '' : ' (stopped)'}; keep ${target.path} in docker/.pre-restore-<UTC stamp>/${name}/${target.container}.tar`,
    canEmpty
      ? `empty ${target.path} (a one-off container of ${blueprint.imageName} mounting ${target.container}'s volumes), then copy the backup's ${entriesText(counted.entries)} (${formatBytes(counted.bytes)}) in with their owners and modes`
      : `copy the backup's ${entriesText(counted.entries)} (${formatBytes(counted.bytes)}) over ${target.path}`,
    target.running ? `start ${target.container} again (also if the copy fails)` : `${target.container} is left stopped, as it was`,
  ];
  const warnings: string[] = [];
  if (!canEmpty)
    warnings.push(`${target.path} cannot be emptied first (not on a volume, or no /bin/sh in the image): files not in the backup stay`);
  if (target.others.length > 0) warnings.push(`also mounted by ${target.others.join(', ')}, which keep running and see the folder change`);
  if (details.path !== target.path || details.container !== target.container) {
    actions.push(`the backup came from ${details.container}:${details.path}; it goes to ${target.container}:${target.path}`);
  }
  if (origin === 'archive')
    warnings.push(`${name} is not declared in this project's orkestra-backup.json: restored as the archive defines it (${described})`);
  return { actions, replaces: [`${target.container}:${target.path}`], warnings, target, image: blueprint.image, canEmpty };
}

/**
 * With the container stopped: the current content kept aside as a tar file, the folder emptied
 * (when it can be), the backup's content copied in with its owners, the container started again.
 */
export async function restoreVolume(
  name: string,
  { services, source, progress, signal, aside }: RestoreContext,
  plan: VolumePlan,
): Promise<RestoreResult> {
  const docker = services.docker();
  const { container, path } = plan.target;
  const kept = { path: await aside.pathFor(name, `${container}.tar`), shown: keptShown(aside, name, container) };
  await withVolumeKept(docker, { ...plan, kept }, { progress, signal }, async () => {
    const failed = plan.canEmpty ? await emptyingFailure(docker, plan) : undefined;
    if (failed !== undefined) throw new RuntimeError(`emptying ${path} of ${container} failed: ${failed}`);
    for await (const entry of contentEntries(source)) {
      await docker.putArchive(container, path, Readable.from(countedAsProgress(entry.content, progress)), signal, { keepOwners: true });
    }
  });
  return { summary: `${path} of ${container}; previous content kept in ${kept.shown}` };
}

/** `docker/.pre-restore-<stamp>/<name>/<container>.tar`: where the kept folder is, as messages show it. */
export function keptShown(aside: RestoreContext['aside'], name: string, container: string): string {
  return `docker/${posix.basename(aside.displayPath)}/${name}/${container}.tar`;
}
