import { UsageError } from '../base/errors.js';
import type { Project } from '../model/project.js';
import { requireRunning } from '../docker/containers.js';
import type { DockerEngine } from '../docker/engine.js';
import { isValidDatabaseName } from './remap.js';

export const MONGODB_DEFAULT_CONTAINER = 'orkestra-mongodb';

/** How mongodump/mongorestore reach the server: the password goes in a --config file, never argv. */
export interface MongoAccess {
  container: string;
  database: string;
  username: string;
  password?: string;
}

/** The project's MongoDB: its container must run; database and root credentials from the settings, else the container's. */
export async function resolveAccess(project: Project, docker: DockerEngine): Promise<MongoAccess> {
  const container = project.containerName('mongodb', MONGODB_DEFAULT_CONTAINER);
  const state = await requireRunning({ docker: () => docker }, container);
  const database = project.setting('MONGO_DATABASE', state.env) ?? 'orkestra';
  if (!isValidDatabaseName(database)) {
    throw new UsageError(`MONGO_DATABASE ${JSON.stringify(database)} is not a valid MongoDB database name.`);
  }
  return {
    container,
    database,
    username: project.setting('MONGO_ROOT_USERNAME', state.env) ?? state.env.MONGO_INITDB_ROOT_USERNAME ?? 'admin',
    password: project.setting('MONGO_ROOT_PASSWORD', state.env) ?? state.env.MONGO_INITDB_ROOT_PASSWORD,
  };
}
