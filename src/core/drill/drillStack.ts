import { hostname } from 'node:os';
import { RuntimeError, UsageError } from '../../base/errors.js';
import { delay } from '../../base/concurrency.js';
import type { DockerEngine } from '../../docker/engine.js';
import type { ContainerBlueprint } from '../../docker/throwaway.js';
import type { Component, DrillContainer } from '../component.js';
import { ComponentProgress } from '../../model/progress.js';
import type { Project } from '../../model/project.js';
import type { Session } from '../session.js';

/** Every container, network and volume of a drill carries it (`=<drill id>`): how they are found and removed. */
export const DRILL_LABEL = 'orkestra-backup.drill';
const PID_LABEL = 'orkestra-backup.drill.pid';
const HOST_LABEL = 'orkestra-backup.drill.host';
/** The project folder the drill was run for: a drill starting cleans up only its own project's leftovers. */
export const PROJECT_LABEL = 'orkestra-backup.drill.project';
/** A throwaway copy gets the live container's memory limit, or this one. */
const DEFAULT_MEMORY_BYTES = 2 * 1024 ** 3;
/** How long a copy may take to answer (a real mongod initialising its users takes tens of seconds). */
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 250;

/** Where a component's copy comes from: a live container, or an image given with --image. */
interface Origin {
  readonly component: Component;
  readonly container: DrillContainer;
  readonly blueprint: ContainerBlueprint;
  readonly from: string;
  /** Settings that point the component at its copy, known before it starts (a volume's path). */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface DrillStack {
  readonly id: string;
  readonly network: string;
  /** Component name → its throwaway container. */
  readonly containers: Readonly<Record<string, string>>;
  /** Settings that point the components at their copies (RUSTFS_ENDPOINT). */
  readonly settings: Readonly<Record<string, string>>;
}

export function drillName(id: string, component?: string): string {
  return component ? `orkestra-drill-${id}-${component}` : `orkestra-drill-${id}`;
}

/**
 * Where each component's copy comes from, decided before anything is created: an --image, else
 * the live container (its exact image and configuration). Neither → a usage error naming the flag.
 */
export async function resolveOrigins(
  session: Session,
  components: readonly Component[],
  images: Readonly<Record<string, string>>,
): Promise<Origin[]> {
  const docker = session.services.docker();
  const live = session.project;
  const origins: Origin[] = [];
  for (const component of components) {
    const container = component.drill?.container;
    if (!container) continue;
    const image = images[component.name];
    if (image !== undefined) {
      const blueprint = await docker.imageBlueprint(image);
      if (!blueprint) {
        throw new UsageError(`--image ${component.name}=${image}: the Docker engine has no image ${image}.`, {
          hint: 'Pull or build it first (docker pull), or leave --image out to copy the live container.',
        });
      }
      origins.push({ component, container, blueprint, from: `image ${image}` });
      continue;
    }
    const found = container.live ? await container.live(session) : undefined;
    const name = found?.container ?? live.containerName(component.name, container.defaultName);
    const blueprint = await docker.blueprint(name);
    if (!blueprint) {
      throw new UsageError(`no live container ${name} to copy for ${component.name}.`, {
        hint: `Pass --image ${component.name}=<image> (the image the stack runs), or start the stack.`,
      });
    }
    const volumes = [...new Set([...blueprint.volumes, ...(found?.volumes ?? [])])];
    origins.push({
      component,
      container,
      blueprint: { ...blueprint, volumes },
      from: `the live ${name} (image ${blueprint.imageName})`,
      settings: found?.settings,
    });
  }
  return origins;
}

/**
 * Starts the copies on a network of the drill's own (internal, nothing published on the host):
 * they never share a port with the live stack. Every object is labelled with the drill's id,
 * its process and host, so a drill killed outright is found and removed by the next one.
 */
export async function startDrillStack(
  session: Session,
  origins: readonly Origin[],
  id: string,
  reachable: (stack: DrillStack) => Project,
): Promise<DrillStack> {
  const docker = session.services.docker();
  const labels = { [DRILL_LABEL]: id, [PID_LABEL]: String(process.pid), [HOST_LABEL]: hostname(), [PROJECT_LABEL]: session.project.dir };
  const network = drillName(id);
  await docker.createNetwork(network, labels);
  const containers: Record<string, string> = {};
  const settings: Record<string, string> = {};
  const started: { origin: Origin; name: string; progress: ComponentProgress }[] = [];
  for (const origin of origins) {
    session.signal.throwIfAborted();
    const name = drillName(id, origin.component.name);
    const progress = new ComponentProgress(origin.component.name, 'start', session.onEvent);
    progress.note(`${name} from ${origin.from}`);
    const volumes = origin.blueprint.volumes.map((path, index) => ({ name: `${name}-${index}`, path }));
    for (const volume of volumes) await docker.createVolume(volume.name, labels);
    await docker.run({
      name,
      blueprint: { ...origin.blueprint, env: withEnv(origin.blueprint.env, origin.container.env ?? {}) },
      labels,
      network,
      memoryBytes: origin.blueprint.memoryBytes ?? DEFAULT_MEMORY_BYTES,
      volumes,
    });
    containers[origin.component.name] = name;
    Object.assign(settings, origin.settings ?? {});
    started.push({ origin, name, progress });
  }
  for (const { origin, name } of started) {
    if (!origin.container.settings) continue;
    const address = (await docker.container(name))?.networkAddresses[0];
    // Without its address the component would fall back to the live settings: never.
    if (!address) throw new RuntimeError(`the throwaway ${origin.component.name} container got no address on ${network}.`);
    Object.assign(settings, origin.container.settings(address));
  }
  const stack = { id, network, containers, settings };
  const project = reachable(stack);
  for (const { origin, name, progress } of started) {
    await waitUntilReady(session, project, origin, name);
    progress.done(`${name} answers`);
  }
  return stack;
}

/** A copy is ready once it runs and, where the component can tell, answers; one that exits fails the drill with its log. */
async function waitUntilReady(session: Session, project: Project, origin: Origin, name: string): Promise<void> {
  const docker = session.services.docker();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    session.signal.throwIfAborted();
    const state = await docker.container(name);
    if (!state?.running) {
      const log = await docker.logTail(name, 5).catch(() => '');
      throw new RuntimeError(
        `the throwaway ${origin.component.name} container (${origin.from}) did not start: it is ${state?.status ?? 'gone'}` +
          `${log ? `; its last log lines: ${log}` : ''}.`,
      );
    }
    const ready = origin.container.ready ? await origin.container.ready({ ...session, project }).catch(() => false) : true;
    if (ready) return;
    if (Date.now() > deadline) {
      const log = await docker.logTail(name, 5).catch(() => '');
      throw new RuntimeError(
        `the throwaway ${origin.component.name} container did not answer within ${READY_TIMEOUT_MS / 1000} s${log ? `; its last log lines: ${log}` : ''}.`,
      );
    }
    await delay(POLL_MS);
  }
}

/** The live environment with the drill's additions replacing same-named entries. */
function withEnv(env: readonly string[], extra: Readonly<Record<string, string>>): string[] {
  const kept = env.filter((pair) => !Object.hasOwn(extra, pair.slice(0, pair.indexOf('='))));
  return [...kept, ...Object.entries(extra).map(([key, value]) => `${key}=${value}`)];
}

/** Removes everything of one drill: containers first (they hold the network and volumes), then the rest. */
export async function removeDrill(docker: DockerEngine, id: string): Promise<void> {
  const things = await docker.labelled(`${DRILL_LABEL}=${id}`);
  for (const container of things.containers) await docker.removeContainer(container.name);
  for (const network of things.networks) await docker.removeNetwork(network.name);
  for (const volume of things.volumes) await docker.removeVolume(volume.name);
}

/**
 * The drills left behind by a process that is gone (SIGKILL, a crash, a reboot): those of this
 * host whose process no longer runs — of one project when given. A drill still running is left alone.
 */
export async function leftoverDrills(docker: DockerEngine, projectDir?: string): Promise<string[]> {
  const things = await docker.labelled(projectDir === undefined ? DRILL_LABEL : `${PROJECT_LABEL}=${projectDir}`);
  const ids = new Set<string>();
  for (const thing of [...things.containers, ...things.networks, ...things.volumes]) {
    const id = thing.labels[DRILL_LABEL];
    if (id && isLeftOver(thing.labels)) ids.add(id);
  }
  return [...ids];
}

function isLeftOver(labels: Readonly<Record<string, string>>): boolean {
  if (labels[HOST_LABEL] !== hostname()) return false;
  const pid = Number(labels[PID_LABEL]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes left-over drills (of one project when given); returns their ids. */
export async function removeLeftoverDrills(docker: DockerEngine, projectDir?: string): Promise<string[]> {
  const ids = await leftoverDrills(docker, projectDir);
  for (const id of ids) await removeDrill(docker, id);
  return ids;
}
