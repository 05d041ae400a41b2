import { PreconditionError, RuntimeError } from '../../base/errors.js';
import type { Project } from '../../model/project.js';
import type { Services } from '../../core/services.js';
import type { VolumeDefinition } from './definition.js';

export interface Target {
  readonly container: string;
  readonly path: string;
  readonly running: boolean;
  /** How it was found, for the plan ("volume orkestra-memgraph, mounted by …"). */
  readonly how: string;
  /** Other containers using the volume while it is restored. */
  readonly others: readonly string[];
}

/** The container and folder now: the named one, or a container mounting the named volume (a running one first). */
export async function resolveTarget(project: Project, services: Services, name: string, definition: VolumeDefinition): Promise<Target> {
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
export async function insideAVolume(services: Services, target: Target): Promise<boolean> {
  const mounts = await services.docker().mountPoints(target.container);
  return mounts.some((mount) => target.path === mount || target.path.startsWith(`${mount}/`));
}

export async function hasShell(services: Services, container: string): Promise<boolean> {
  const shell = await services.docker().getArchive(container, '/bin/sh');
  shell?.destroy();
  return shell !== undefined;
}

/** `ORKESTRA_<NAME>_PATH`: with a --container override, the folder inside that container (how a drill's copy is named). */
export function pathSetting(name: string): string {
  return `ORKESTRA_${name.toUpperCase().replace(/-/g, '_')}_PATH`;
}
