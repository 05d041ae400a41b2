import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConnectionString } from 'mongodb-connection-string-url';
import { PreconditionError, RuntimeError, UsageError } from '../base/errors.js';
import { packTar } from '../archive/tarPack.js';
import type { Project } from '../core/project.js';
import type { Services } from '../core/services.js';
import { TailBuffer } from '../docker/demux.js';
import type { DockerEngine, ExecOptions, ExecResult } from '../docker/engine.js';
import { resolveAccess, type MongoAccess } from './projectMongo.js';
import { isValidDatabaseName } from './remap.js';

export type MongoTool = 'mongodump' | 'mongorestore';

/**
 * Where mongodump and mongorestore run and how they log in: inside the MongoDB container (the
 * default), or on this host against MONGO_URI (MongoDB Atlas, a system service). Either way the
 * password reaches the tools in a 0600 `--config` file, never on their command line.
 */
export interface MongoTools {
  /** "in orkestra-mongodb", "on this host (MONGO_URI)": for messages. */
  readonly where: string;
  readonly database: string;
  readonly username?: string;
  /** A short name for files kept aside (the container, or `host`). */
  readonly label: string;
  /** The URI the driver connects to, for the host transport (carries the password: never printed). */
  readonly uri?: string;
  /** What to check when the login fails. */
  readonly loginHint: string;
  /** What to check when the server cannot be reached. */
  readonly reachHint: string;
  run(tool: MongoTool, args: readonly string[], io?: ExecOptions): Promise<ExecResult>;
  /** The command that runs `tool args` by hand, for a message (the password is asked for, never shown). */
  manual(tool: MongoTool, args: readonly string[]): string;
}

/** MONGO_URI (or --mongo-uri) set: the host's tools; else the container's. */
export async function projectMongoTools(project: Project, services: Pick<Services, 'docker'>): Promise<MongoTools> {
  const uri = project.setting('MONGO_URI');
  if (uri !== undefined) return hostTools(project, uri);
  return containerTools(services.docker(), await resolveAccess(project, services.docker()));
}

/** The container transport: `docker exec`, the password in a 0600 file of the container's /tmp, removed whatever happens. */
export function containerTools(docker: DockerEngine, access: MongoAccess): MongoTools {
  const auth = (file: string) => [`--username=${access.username}`, '--authenticationDatabase=admin', `--config=/tmp/${file}`];
  return {
    where: `in ${access.container}`,
    database: access.database,
    username: access.username,
    label: access.container,
    loginHint:
      "Check MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD in docker/.env (or the container's MONGO_INITDB_ROOT_*). Nothing was touched.",
    reachHint: `Check that mongod is up in ${access.container} (docker logs ${access.container}).`,
    async run(tool, args, io = {}) {
      if (!access.password) return docker.exec(access.container, [tool, ...args], io);
      const name = `.orkestra-backup-${randomBytes(6).toString('hex')}.yaml`;
      const content = Buffer.from(`password: ${JSON.stringify(access.password)}\n`);
      await docker.putArchive(
        access.container,
        '/tmp',
        packTar([{ type: 'file', path: name, size: content.length, content: [content], mode: 0o600 }]),
      );
      try {
        return await docker.exec(access.container, [tool, ...args, ...auth(name)], io);
      } finally {
        await docker.exec(access.container, ['rm', '-f', `/tmp/${name}`]).catch(() => undefined);
      }
    },
    manual(tool, args) {
      const login = access.password ? ` --username=${access.username} --authenticationDatabase=admin --password` : '';
      return `docker exec -i ${access.container} ${tool} ${args.join(' ')}${login}`;
    },
  };
}

/** The host transport: the tools from ORKESTRA_MONGO_TOOLS or PATH, the whole URI in a 0600 `--config` file of a private folder. */
async function hostTools(project: Project, uri: string): Promise<MongoTools> {
  const parsed = parseMongoUri(uri);
  const database = project.setting('MONGO_DATABASE') ?? (parsed.pathname.replace(/^\//, '') || 'orkestra');
  if (!isValidDatabaseName(database)) {
    throw new UsageError(`MONGO_DATABASE ${JSON.stringify(database)} is not a valid MongoDB database name.`);
  }
  const folder = project.setting('ORKESTRA_MONGO_TOOLS');
  const hosts = parsed.hosts.join(',');
  return {
    where: `on this host (MONGO_URI, ${hosts})`,
    database,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    label: 'host',
    uri,
    loginHint: 'Check the user and password in MONGO_URI. Nothing was touched.',
    reachHint: `Check that ${hosts} (MONGO_URI) is reachable from this host.`,
    async run(tool, args, io = {}) {
      const program = await findTool(tool, folder);
      const privateFolder = await mkdtemp(join(tmpdir(), 'orkestra-mongo-'));
      try {
        const config = join(privateFolder, 'config.yaml');
        await writeFile(config, `uri: ${JSON.stringify(uri)}\n`, { mode: 0o600 });
        return await runProgram(program, [...args, `--config=${config}`], io);
      } finally {
        await rm(privateFolder, { recursive: true, force: true });
      }
    },
    manual(tool, args) {
      return `${tool} ${args.join(' ')} --uri '<MONGO_URI>'`;
    },
  };
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

/** Runs a program with stdin/stdout streamed like an exec: stdout ended only on exit 0, stderr's last 64 KiB kept. */
async function runProgram(program: string, args: readonly string[], io: ExecOptions): Promise<ExecResult> {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: io.signal });
  const stderr = new TailBuffer();
  const collected = io.stdout ? undefined : new TailBuffer(16 * 1024 * 1024);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  if (!io.stdout) child.stdout.on('data', (chunk: Buffer) => collected!.push(chunk));
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    // Killed by a signal: 128 + its number, as a shell (and the Docker engine) reports it.
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1)));
  });
  const feeding = io.stdin ? pipeline(io.stdin, child.stdin).catch(() => undefined) : (child.stdin.end(), Promise.resolve());
  const output = io.stdout ? pipeline(child.stdout, io.stdout, { end: false }) : Promise.resolve();
  let exitCode: number;
  try {
    exitCode = await exited;
    await output;
  } catch (error) {
    io.stdout?.destroy(error as Error);
    if ((error as Error).name === 'AbortError') throw new RuntimeError(`${program} was interrupted.`);
    throw error;
  }
  // A tool may exit without reading all its input (mongorestore --dryRun): what is left is dropped.
  io.stdin?.destroy();
  await feeding;
  if (io.stdout) {
    if (exitCode === 0) io.stdout.end();
    else io.stdout.destroy(new RuntimeError(`${program} exited with code ${exitCode}`));
  }
  return { exitCode, stderr: stderr.toString(), stdout: collected?.toString() ?? '' };
}
