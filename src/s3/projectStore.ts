import { PreconditionError } from '../base/errors.js';
import type { ProgressReporter } from '../core/component.js';
import type { Project } from '../core/project.js';
import type { Services } from '../core/services.js';
import { requireRunning } from '../docker/containers.js';
import { resolveEndpoint } from './endpoint.js';
import type { ObjectStore } from './store.js';

export const RUSTFS_DEFAULT_CONTAINER = 'orkestra-rustfs';

/** The project's object store: its container must run; endpoint and keys from the settings, else the container's. */
export async function connectProjectStore(
  project: Project,
  services: Services,
  progress?: Pick<ProgressReporter, 'note'>,
): Promise<ObjectStore> {
  const container = await requireRunning(services, project.containerName('rustfs', RUSTFS_DEFAULT_CONTAINER));
  const { endpoint, source } = resolveEndpoint(project.setting('RUSTFS_ENDPOINT', container.env), container);
  const accessKeyId = project.setting('RUSTFS_ACCESS_KEY', container.env) ?? container.env.MINIO_ROOT_USER;
  const secretAccessKey = project.setting('RUSTFS_SECRET_KEY', container.env) ?? container.env.MINIO_ROOT_PASSWORD;
  if (!accessKeyId || !secretAccessKey) {
    throw new PreconditionError('no credentials for the object store.', {
      hint: 'Set RUSTFS_ACCESS_KEY and RUSTFS_SECRET_KEY in docker/.env.',
    });
  }
  progress?.note(`object store at ${endpoint} (${source})`);
  return services.objectStore({ endpoint, accessKeyId, secretAccessKey });
}
