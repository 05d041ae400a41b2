import { archivedComponent, COMPONENTS, projectComponents } from '../components/index.js';
import type { Component } from '../core/component.js';
import { loadProjectConfig } from './projectConfig.js';
import type { EventListener } from '../model/events.js';
import { openProject, type Project } from '../model/project.js';
import type { Services } from '../core/services.js';
import { readTuning } from '../core/tuning.js';
import { DockerEngine } from '../docker/engine.js';
import { ObjectStore } from '../s3/client/store.js';
import { OffsiteStore } from '../s3/offsite/offsite.js';
import { openOffsiteStore } from '../core/offsite.js';
import type { Session } from '../core/session.js';

/**
 * Where the pieces are put together: the one session API the command line and the interactive
 * interface both open (neither reaches into the other).
 */
export interface SessionOptions {
  projectDir?: string;
  env?: string;
  containers: Record<string, string>;
  /** Settings given as flags, by their setting name (`--no-keep-mongodb` → ORKESTRA_KEEP_MONGODB=no). */
  settings: Record<string, string>;
}

export async function openSession(options: SessionOptions, onEvent: EventListener, signal: AbortSignal): Promise<Session> {
  const project = await openSessionProject(options);
  return sessionFor(project, onEvent, signal, await loadComponents(project));
}

/** The built-in components and those the project's orkestra-backup.json declares (checked against their kinds). */
export async function loadComponents(project: Project): Promise<readonly Component[]> {
  return projectComponents(await loadProjectConfig(project.dir));
}

export function openSessionProject(options: SessionOptions): Promise<Project> {
  return openProject({
    projectDir: options.projectDir,
    environment: options.env,
    containers: options.containers,
    settings: options.settings,
  });
}

/** A session over a project already open (the interactive interface opens it once). */
export function sessionFor(
  project: Project,
  onEvent: EventListener,
  signal: AbortSignal,
  components: readonly Component[] = COMPONENTS,
): Session {
  return { project, services: createServices(), components, fromArchive: archivedComponent, onEvent, signal };
}

/** The outside world, created on first use so that a secrets-only run never needs Docker. */
export function createServices(env: NodeJS.ProcessEnv = process.env): Services {
  let docker: DockerEngine | undefined;
  return {
    docker() {
      docker ??= DockerEngine.fromEnvironment(env);
      return docker;
    },
    objectStore: (location) => new ObjectStore(location),
    offsiteStore: (settings, retry) => new OffsiteStore(settings, retry),
    tuning: readTuning(env),
  };
}

/** The off-site store for commands that have no session (verify, inspect, list, prune): retries are reported on `onEvent`. */
export function openOffsite(setting: (key: string) => string | undefined, onEvent: EventListener, signal: AbortSignal): OffsiteStore {
  return openOffsiteStore({ services: createServices(), setting, onEvent, signal });
}
