import { PreconditionError } from '../../base/errors.js';
import type { Availability } from '../../model/availability.js';
import type { ProgressReporter } from '../../model/progress.js';
import type { Project } from '../../model/project.js';
import { containerAvailability, requireRunning } from '../../docker/containers.js';
import type { ContainerState } from '../../docker/containerState.js';
import { resolveEndpoint } from './endpoint.js';
import type { ObjectStore, S3Location } from '../client/store.js';
import type { EngineAccess } from '../../docker/engine.js';

export const RUSTFS_DEFAULT_CONTAINER = 'orkestra-rustfs';

/** What the store's support needs of the session: the engine, and a client of the store once its address is known. */
export interface StoreAccess extends EngineAccess {
  objectStore(location: S3Location): ObjectStore;
}

/**
 * The object store is reached over S3 alone: with RUSTFS_ENDPOINT set it needs no container (a
 * cloud S3, a RustFS outside Docker); without it, the container tells where it listens.
 */
export async function storeAvailability(project: Project, services: StoreAccess): Promise<Availability> {
  const name = project.containerName('rustfs', RUSTFS_DEFAULT_CONTAINER);
  const endpoint = project.setting('RUSTFS_ENDPOINT');
  const container = await containerAvailability(services, name);
  if (container.available)
    return {
      available: true,
      detail: `${container.detail}; ${endpoint ? `endpoint ${endpoint} (RUSTFS_ENDPOINT)` : 'endpoint from the container'}`,
    };
  if (endpoint) return { available: true, detail: `endpoint ${endpoint} (RUSTFS_ENDPOINT), no container needed (${container.reason})` };
  return container;
}

/** The project's object store: endpoint and keys from the settings, else from the container (which must then run). */
export async function connectProjectStore(
  project: Project,
  services: StoreAccess,
  progress?: Pick<ProgressReporter, 'note'>,
): Promise<ObjectStore> {
  const name = project.containerName('rustfs', RUSTFS_DEFAULT_CONTAINER);
  const container = project.setting('RUSTFS_ENDPOINT') ? await containerIfAny(services, name) : await requireRunning(services, name);
  const env = container?.env ?? {};
  const { endpoint, source } = resolveEndpoint(project.setting('RUSTFS_ENDPOINT', env), container);
  const accessKeyId = project.setting('RUSTFS_ACCESS_KEY', env) ?? env.MINIO_ROOT_USER;
  const secretAccessKey = project.setting('RUSTFS_SECRET_KEY', env) ?? env.MINIO_ROOT_PASSWORD;
  if (!accessKeyId || !secretAccessKey) {
    throw new PreconditionError('no credentials for the object store.', {
      hint: 'Set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY in docker/.env.',
    });
  }
  progress?.note(`object store at ${endpoint} (${source}${container ? '' : ', no container'})`);
  return services.objectStore({ endpoint, accessKeyId, secretAccessKey });
}

/** With the endpoint given, the container only lends its environment: absent, stopped or no Docker at all is fine. */
async function containerIfAny(services: StoreAccess, name: string): Promise<ContainerState | undefined> {
  try {
    return await services.docker().container(name);
  } catch {
    return undefined;
  }
}
