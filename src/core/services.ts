import type { DockerEngine } from '../docker/engine.js';

/**
 * The outside world as the core and the components see it. The core only names the type; the
 * entry points (app/session.ts) build it, so that a secrets-only run never needs Docker.
 */
export interface Services {
  docker(): DockerEngine;
}
