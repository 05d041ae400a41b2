import type { Project } from '../model/project.js';
import { requireRunning } from '../docker/containers.js';
import type { DockerEngine } from '../docker/engine.js';
import { RedisCli } from './cli.js';

export const REDIS_DEFAULT_CONTAINER = 'orkestra-redis';

/** The project's Redis: its container must run; the password comes from REDIS_PASSWORD (docker/.env, else the container's). */
export async function connectRedis(project: Project, docker: DockerEngine): Promise<RedisCli> {
  const container = project.containerName('redis', REDIS_DEFAULT_CONTAINER);
  const state = await requireRunning({ docker: () => docker }, container);
  return new RedisCli(docker, container, project.setting('REDIS_PASSWORD', state.env));
}
