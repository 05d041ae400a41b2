import { DockerEngine } from '../docker/engine.js';

/** The outside world, created on first use so that a secrets-only run never needs Docker. */
export interface Services {
  docker(): DockerEngine;
}

export function createServices(env: NodeJS.ProcessEnv = process.env): Services {
  let docker: DockerEngine | undefined;
  return {
    docker() {
      docker ??= DockerEngine.fromEnvironment(env);
      return docker;
    },
  };
}
