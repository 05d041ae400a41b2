import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { list } from 'tar';
import { z } from 'zod';
import { OrkestraError, PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { formatBytes, withoutFinalPeriod } from '../base/format.js';
import type { Component, ComponentKind, ComponentSource, DefinitionOrigin, RestorePlan } from '../core/component.js';
import { critical } from '../core/criticalSection.js';
import { countedAsProgress } from '../core/progress.js';
import { readDetails } from '../core/details.js';
import type { Project } from '../core/project.js';
import type { Services } from '../core/services.js';
import { smallFileList } from '../core/smallFileList.js';

/**
 * `{ "kind": "volume", "volume": "orkestra-memgraph" }` (a named volume, reached through a container
 * that mounts it) or `{ "kind": "volume", "container": "orkestra-memgraph", "path": "/var/lib/memgraph" }`.
 */
const VolumeSchema = z
  .strictObject({
    volume: z.string().min(1).optional(),
    container: z.string().min(1).optional(),
    path: z.string().regex(/^\/./, 'an absolute path inside the container, not "/"').optional(),
    title: z.string().min(1).optional(),
  })
  .refine((definition) => (definition.volume !== undefined) !== (definition.container !== undefined), {
    message: 'give "volume" (a named volume), or "container" and "path"',
  })
  .refine((definition) => definition.container === undefined || definition.path !== undefined, {
    message: '"container" needs "path" (the folder inside it)',
    path: ['path'],
  });
type VolumeDefinition = z.infer<typeof VolumeSchema>;

const CONTENT_ENTRY = 'content.tar';
/** Empties the folder given as $0, hidden files included, leaving the folder itself. */
const EMPTY_FOLDER = 'cd "$0" && rm -rf -- * .[!.]* ..?*';

const VolumeDetailsSchema = z.object({
  definition: z.looseObject({ kind: z.literal('volume') }),
  container: z.string(),
  path: z.string(),
});

interface Target {
  readonly container: string;
  readonly path: string;
  readonly running: boolean;
  /** How it was found, for the plan ("volume orkestra-memgraph, mounted by …"). */
  readonly how: string;
  /** Other containers using the volume while it is restored. */
  readonly others: readonly string[];
}

interface VolumePlan extends RestorePlan {
  readonly target: Target;
  readonly image: string;
  readonly canEmpty: boolean;
}

export const volumeKind: ComponentKind<VolumeDefinition> = {
  kind: 'volume',
  schema: VolumeSchema,
  create: volumeComponent,
};

/**
 * A Docker named volume, or a folder inside a named container: copied out through the Engine
 * API's archive endpoint (as `docker cp` does: modes, owners, mtimes, names as they are) into one
 * `content.tar`; restored with the container stopped — its current content kept aside as a tar
 * file, the folder emptied by a one-off container that mounts the same volumes, the backup's
 * content copied in with its owners — and started again, also when the copy fails.
 */
function volumeComponent(name: string, definition: VolumeDefinition, origin: DefinitionOrigin): Component<VolumePlan> {
  const described = definition.volume !== undefined ? `volume ${definition.volume}` : `${definition.container}:${definition.path}`;
  return {
    name,
    title: definition.title ?? `${name} (${described})`,

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
      await sink.addStream(CONTENT_ENTRY, content);
      return {
        details: { definition: { kind: 'volume', ...definition }, container: target.container, path: target.path },
        summary: `${target.path} of ${target.container}`,
      };
    },

    async planRestore({ project, services, source }) {
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
      if (target.others.length > 0)
        warnings.push(`also mounted by ${target.others.join(', ')}, which keep running and see the folder change`);
      if (details.path !== target.path || details.container !== target.container) {
        actions.push(`the backup came from ${details.container}:${details.path}; it goes to ${target.container}:${target.path}`);
      }
      if (origin === 'archive')
        warnings.push(`${name} is not declared in this project's orkestra-backup.json: restored as the archive defines it (${described})`);
      return { actions, replaces: [`${target.container}:${target.path}`], warnings, target, image: blueprint.image, canEmpty };
    },

    async restore({ services, source, progress, signal, aside }, plan) {
      const docker = services.docker();
      const { container, path, running } = plan.target;
      const kept = await aside.pathFor(name, `${container}.tar`);
      const emptyFolder = async () => {
        const result = await docker.runWithVolumesOf(container, plan.image, ['/bin/sh', '-c', EMPTY_FOLDER, path]);
        if (result.exitCode !== 0)
          throw new RuntimeError(`emptying ${path} of ${container} failed: ${result.log || `exit ${result.exitCode}`}`);
      };
      const failure = await critical(`starting ${container} again`, async () => {
        if (running) {
          progress.note(`stopping ${container}`);
          await docker.stop(container);
        }
        let keptWhole = false;
        try {
          const current = await docker.getArchive(container, `${path}/.`);
          if (current) await pipeline(current, createWriteStream(kept, { mode: 0o600 }));
          keptWhole = true;
          signal.throwIfAborted();
          if (plan.canEmpty) await emptyFolder();
          for await (const entry of source.entries()) {
            if (entry.path !== CONTENT_ENTRY) {
              entry.content.resume();
              continue;
            }
            await docker.putArchive(container, path, Readable.from(countedAsProgress(entry.content, progress)), signal, {
              keepOwners: true,
            });
          }
          return undefined;
        } catch (error) {
          if (keptWhole) {
            progress.note(`copy stopped; putting the previous content back`);
            if (plan.canEmpty) await emptyFolder().catch(() => undefined);
            await docker.putArchive(container, path, createReadStream(kept), undefined, { keepOwners: true }).catch(() => undefined);
          }
          return error;
        } finally {
          if (running) {
            progress.note(`starting ${container}`);
            await docker.start(container);
          }
        }
      });
      if (failure) throw failure as Error;
      return {
        summary: `${path} of ${container}; previous content kept in docker/${posix.basename(aside.displayPath)}/${name}/${container}.tar`,
      };
    },

    drill: {
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
        for await (const entry of source.entries()) {
          if (entry.path === CONTENT_ENTRY) expected = await tarListing(entry.content);
          else entry.content.resume();
        }
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
    },

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

/** The container and folder now: the named one, or a container mounting the named volume (a running one first). */
async function resolveTarget(project: Project, services: Services, name: string, definition: VolumeDefinition): Promise<Target> {
  const docker = services.docker();
  // A drill points the component at its copy: the copy's name and the folder it holds in a volume of its own.
  const pinnedPath = project.setting(pathSetting(name));
  const pinnedContainer = project.containerName(name, '');
  if (pinnedPath !== undefined && pinnedContainer !== '') {
    const state = await docker.container(pinnedContainer);
    if (!state) throw new PreconditionError(`no container named ${pinnedContainer} (component ${name}).`);
    return {
      container: pinnedContainer,
      path: pinnedPath,
      running: state.running,
      how: `${pinnedPath} of container ${pinnedContainer}`,
      others: [],
    };
  }
  // Never the live volume from a drill's project: its copies are the only containers it may touch.
  if (project.hostRoot !== undefined) throw new RuntimeError(`a drill cannot reach ${name}: its copy was not set up.`);
  if (definition.container !== undefined) {
    const container = project.containerName(name, definition.container);
    const state = await docker.container(container);
    if (!state) throw new PreconditionError(`no container named ${container} (component ${name}).`);
    return { container, path: definition.path!, running: state.running, how: `${definition.path} of container ${container}`, others: [] };
  }
  const volume = definition.volume!;
  if (!(await docker.volumeExists(volume))) {
    throw new PreconditionError(`no Docker volume named ${volume} (component ${name}).`, { hint: 'Check the name with docker volume ls.' });
  }
  const [user, ...others] = await docker.volumeUsers(volume);
  if (!user) {
    throw new PreconditionError(`no container mounts volume ${volume} (component ${name}).`, {
      hint: 'Start the service that uses it, or declare "container" and "path" instead.',
    });
  }
  return {
    container: user.name,
    path: user.path,
    running: user.running,
    how: `volume ${volume}, mounted at ${user.path} by ${user.name}`,
    others: others.filter((other) => other.running).map((other) => other.name),
  };
}

/** The one-off container that empties the folder sees it only if it is (inside) one of the container's volumes. */
async function insideAVolume(services: Services, target: Target): Promise<boolean> {
  const mounts = await services.docker().mountPoints(target.container);
  return mounts.some((mount) => target.path === mount || target.path.startsWith(`${mount}/`));
}

async function hasShell(services: Services, container: string): Promise<boolean> {
  const shell = await services.docker().getArchive(container, '/bin/sh');
  shell?.destroy();
  return shell !== undefined;
}

async function checkContentOnly(source: ComponentSource, name: string): Promise<void> {
  const files = await smallFileList(source, name);
  const other = files.find((file) => file.path !== CONTENT_ENTRY);
  if (other) throw damaged(source, `${name}/${other.path} is not part of a volume backup`);
  if (!files.some((file) => file.path === CONTENT_ENTRY)) throw damaged(source, `${name}/${CONTENT_ENTRY} is missing`);
}

/** Reads the content tar whole: its entries, their bytes, and that no name leaves the folder. */
async function countContent(source: ComponentSource, name: string): Promise<{ entries: number; bytes: number }> {
  for await (const entry of source.entries()) {
    if (entry.path !== CONTENT_ENTRY) {
      entry.content.resume();
      continue;
    }
    let entries = 0;
    let bytes = 0;
    let escaping: string | undefined;
    try {
      await list({
        input: entry.content.iterator({ destroyOnReturn: false }),
        strict: true,
        onEntry: (read) => {
          entries += 1;
          bytes += read.size;
          if (read.path.startsWith('/') || read.path.split('/').includes('..')) escaping ??= read.path;
        },
      });
      await finished(entry.content.resume()); // the zeros after the end marker: the entry is read whole, so its checksum is checked
    } catch (error) {
      entry.content.destroy();
      throw damaged(source, `${name}/${CONTENT_ENTRY} is not a readable tar (${(error as Error).message})`);
    }
    if (escaping) throw damaged(source, `${name}/${CONTENT_ENTRY} holds ${JSON.stringify(escaping)}, outside its folder`);
    return { entries, bytes };
  }
  return { entries: 0, bytes: 0 };
}

/** `ORKESTRA_<NAME>_PATH`: with a --container override, the folder inside that container (how a drill's copy is named). */
function pathSetting(name: string): string {
  return `ORKESTRA_${name.toUpperCase().replace(/-/g, '_')}_PATH`;
}

/** Every entry of a docker-cp tar (`./…`): type, mode, owner, size and content hash; the root's own times left out. */
async function tarListing(content: Readable): Promise<Map<string, string>> {
  const listing = new Map<string, string>();
  try {
    await list({
      input: content.iterator({ destroyOnReturn: false }),
      onEntry: async (read) => {
        const hash = createHash('sha256');
        for await (const chunk of read.body) hash.update(chunk);
        const when = read.path.replace(/\/$/, '') === '.' ? '' : ` ${Math.floor((read.mtime?.getTime() ?? 0) / 1000)}`;
        listing.set(
          read.path.replace(/\/$/, ''),
          `${read.type} ${(read.mode ?? 0).toString(8)} ${read.uid}:${read.gid} ${read.size}${when} ${hash.digest('hex')}`,
        );
      },
    });
    await finished(content.resume()); // read whole, as above
  } finally {
    content.destroy(); // what a failure left half read
  }
  return listing;
}

function entriesText(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'entry' : 'entries'}`;
}

function damaged(source: ComponentSource, problem: string): UsageError {
  return new UsageError(`${source.archiveName}: ${problem}.`, {
    hint: 'The archive is damaged or was not made by orkestra-backup; nothing was touched.',
  });
}
