import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ConnectionString } from 'mongodb-connection-string-url';
import { PreconditionError, UsageError } from '../base/errors.js';
import { createPrivateFolder, removeTemporary } from '../base/temporaryFiles.js';
import type { Project } from '../model/project.js';
import type { DockerEngine, EngineAccess } from '../docker/engine.js';
import type { ExecOptions } from '../docker/execSession.js';
import { withContainerFile } from './containerFile.js';
import { runHostProgram } from './hostProgram.js';
import { resolveAccess, type MongoAccess } from './projectMongo.js';
import { isValidDatabaseName } from './remap.js';
import { requireServer } from './serverFacts.js';
import { maskCredentials, type ToolIdentity, type ToolResult } from './toolOutput.js';

export type MongoTool = 'mongodump' | 'mongorestore';

/**
 * Where mongodump and mongorestore run and how they log in: inside the MongoDB container (the
 * default), or on this host against MONGO_URI (MongoDB Atlas, a system service). Either way the
 * password reaches the tools in a 0600 `--config` file, never on their command line.
 */
export interface MongoTools extends ToolIdentity {
  readonly database: string;
  /** A short name for files kept aside (the container, or `host`). */
  readonly label: string;
  /** The URI the driver connects to, for the host transport (carries the password: never printed). */
  readonly uri?: string;
  /** Runs a tool; every line relayed from its output has its credentials masked. */
  run(tool: MongoTool, args: readonly string[], io?: ExecOptions): Promise<ToolResult>;
  /** The command that runs `tool args` by hand, for a message (the password is asked for, never shown). */
  manual(tool: MongoTool, args: readonly string[]): string;
}

/** MONGO_URI (or --mongo-uri) set: the host's tools; else the container's. */
export async function projectMongoTools(project: Project, services: EngineAccess): Promise<MongoTools> {
  const uri = project.setting('MONGO_URI');
  if (uri !== undefined) return hostTools(project, uri);
  return containerTools(services.docker(), await resolveAccess(project, services.docker()));
}

/** The container transport: `docker exec`, the password in a 0600 file of the container's /tmp, removed whatever happens. */
export function containerTools(docker: DockerEngine, access: MongoAccess): MongoTools {
  const auth = (path: string) => [`--username=${access.username}`, '--authenticationDatabase=admin', `--config=${path}`];
  return {
    where: `in ${access.container}`,
    database: access.database,
    username: access.username,
    label: access.container,
    loginHint:
      "Check MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD in docker/.env (or the container's MONGO_INITDB_ROOT_*). Nothing was touched.",
    reachHint: `Check that mongod is up in ${access.container} (docker logs ${access.container}).`,
    async run(tool, args, io = {}) {
      if (!access.password) return masked(await docker.exec(access.container, [tool, ...args], io), []);
      const config = { extension: '.yaml', content: `password: ${JSON.stringify(access.password)}\n` };
      return withContainerFile(docker, access.container, config, async (path) =>
        masked(await docker.exec(access.container, [tool, ...args, ...auth(path)], io), [access.password]),
      );
    },
    manual(tool, args) {
      const login = access.password ? ` --username=${access.username} --authenticationDatabase=admin --password` : '';
      return `docker exec -i ${access.container} ${tool} ${args.join(' ')}${login}`;
    },
  };
}

/** How long a host tool may go without progress before it is stopped, unless ORKESTRA_MONGO_STALL_SECONDS says otherwise. */
const DEFAULT_STALL_SECONDS = 900;

/**
 * The host transport: the tools from ORKESTRA_MONGO_TOOLS or PATH, the whole URI in a 0600
 * `--config` file of a private folder (named with this process's pid, so that the next run
 * removes one a killed run left). The driver checks the server and the login first.
 */
async function hostTools(project: Project, uri: string): Promise<MongoTools> {
  const parsed = parseMongoUri(uri);
  const database = project.setting('MONGO_DATABASE') ?? (parsed.pathname.replace(/^\//, '') || 'orkestra');
  if (!isValidDatabaseName(database)) {
    throw new UsageError(`MONGO_DATABASE ${JSON.stringify(database)} is not a valid MongoDB database name.`);
  }
  const folder = project.setting('ORKESTRA_MONGO_TOOLS');
  const stallSeconds = stallLimit(project);
  const hosts = parsed.hosts.join(',');
  const secrets = [parsed.password, safeDecode(parsed.password)];
  const stallHint = `Check that ${hosts} (MONGO_URI) is reachable from this host; ORKESTRA_MONGO_STALL_SECONDS sets this limit (0: none).`;
  return {
    where: `on this host (MONGO_URI, ${hosts})`,
    database,
    username: parsed.username ? safeDecode(parsed.username) : undefined,
    label: 'host',
    uri,
    loginHint: 'Check the user and password in MONGO_URI. Nothing was touched.',
    reachHint: `Check that ${hosts} (MONGO_URI) is reachable from this host.`,
    async run(tool, args, io = {}) {
      const settings = { tool, stallSeconds, stallHint, secrets };
      const program = await beforeStart(io, () => findTool(tool, folder));
      if (args.includes('--version')) return runHostProgram(program, args, io, settings);
      await beforeStart(io, () => requireServer(uri, tool));
      const privateFolder = await beforeStart(io, () => createPrivateFolder('orkestra-mongo-'));
      try {
        const config = join(privateFolder, 'config.yaml');
        await beforeStart(io, () => writeFile(config, `uri: ${JSON.stringify(uri)}\n`, { mode: 0o600 }));
        return await runHostProgram(program, [...args, `--config=${config}`], io, settings);
      } finally {
        await removeTemporary(privateFolder);
      }
    },
    manual(tool, args) {
      return `${tool} ${args.join(' ')} --uri '<MONGO_URI>'`;
    },
  };
}

/**
 * A step before the tool starts: when it fails, the streams the tool would have used end with
 * the same error, as they would after a failed run — a reader waiting on stdout would wait forever.
 */
async function beforeStart<T>(io: ExecOptions, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    io.stdin?.destroy();
    io.stdout?.destroy(error as Error);
    throw error;
  }
}

/** ORKESTRA_MONGO_STALL_SECONDS: a whole number of seconds, 0 for no limit. */
function stallLimit(project: Project): number {
  const value = project.setting('ORKESTRA_MONGO_STALL_SECONDS');
  if (value === undefined) return DEFAULT_STALL_SECONDS;
  if (!/^\d{1,6}$/.test(value.trim())) {
    throw new UsageError(`ORKESTRA_MONGO_STALL_SECONDS must be a whole number of seconds (0: no limit), not ${JSON.stringify(value)}.`);
  }
  return Number(value.trim());
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A container tool's result with the credentials of its output masked, like the host's. */
function masked(result: ToolResult, secrets: readonly (string | undefined)[]): ToolResult {
  return { ...result, stderr: maskCredentials(result.stderr, secrets), stdout: maskCredentials(result.stdout, secrets) };
}

/** A MONGO_URI the driver's own parser accepts; a malformed one is a usage error that never echoes the value (it holds a password). */
export function parseMongoUri(uri: string): ConnectionString {
  try {
    return new ConnectionString(uri);
  } catch (error) {
    const reason = (error as Error).message.replace(uri, '<MONGO_URI>');
    throw new UsageError(`MONGO_URI is not a MongoDB connection string: ${reason}.`, {
      hint: 'Example: mongodb://user:password@db.example.com:27017/orkestra?authSource=admin (or mongodb+srv://…).',
    });
  }
}

async function findTool(tool: MongoTool, folder: string | undefined): Promise<string> {
  const folders = folder !== undefined ? [folder] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const candidate of folders.map((dir) => join(dir, tool))) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new PreconditionError(
    `${tool} is not installed on this host (${folder !== undefined ? `ORKESTRA_MONGO_TOOLS=${folder}` : 'searched PATH'}).`,
    {
      hint: "MONGO_URI runs the host's MongoDB Database Tools: install them (mongodb-database-tools), set ORKESTRA_MONGO_TOOLS to their folder, or unset MONGO_URI to use the container.",
    },
  );
}
