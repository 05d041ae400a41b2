import { RuntimeError } from '../base/errors.js';
import { firstLine } from '../base/format.js';
import type { DockerEngine } from '../docker/engine.js';
import type { ExecResult } from '../docker/execSession.js';
import type { MongoAccess } from './projectMongo.js';
import { withContainerFile } from './containerFile.js';
import { MongoUnreachable, withMongoUri } from './serverCounts.js';
import { lastLines, maskCredentials } from './toolOutput.js';

/**
 * What mongorestore cannot do: list the collections of a database, and drop some. Through
 * MONGO_URI the official driver does it; in a container, the container's own shell (mongosh,
 * or the legacy `mongo` of older images), reached through exec like the tools.
 */
export interface MongoCollections {
  /** How the server is asked, for messages ("through the driver", "with mongosh in orkestra-mongodb"). */
  readonly how: string;
  /** The collection names of a database, system collections included; `signal` stops the asking. */
  list(database: string, signal?: AbortSignal): Promise<string[]>;
  /** Drops collections of a database; a name that does not exist is not an error. */
  drop(database: string, names: readonly string[]): Promise<void>;
  /** The documents each named collection of a database holds now (0 for one that does not exist). */
  count(database: string, names: readonly string[], signal?: AbortSignal): Promise<Map<string, number>>;
}

/** A failure to ask the server: its one-line reason. */
export class CollectionsUnavailable extends RuntimeError {}

export function driverCollections(uri: string): MongoCollections {
  const ask = async <T>(work: Parameters<typeof withMongoUri<T>>[1]): Promise<T> => {
    try {
      return await withMongoUri(uri, work);
    } catch (error) {
      if (error instanceof MongoUnreachable) throw new CollectionsUnavailable(error.message);
      throw new CollectionsUnavailable(maskCredentials(firstLine((error as Error).message)));
    }
  };
  return {
    how: 'through the driver (MONGO_URI)',
    list: (database) => ask((server) => server.collections(database)),
    drop: (database, names) => ask((server) => server.drop(database, names)),
    count: (database, names) =>
      ask(async (server) => {
        const counts = new Map<string, number>();
        for (const name of names) counts.set(name, await server.count(`${database}.${name}`));
        return counts;
      }),
  };
}

const SHELLS = ['mongosh', 'mongo'] as const;
const LISTED = 'ORKESTRA-COLLECTIONS ';
const COUNTED = 'ORKESTRA-COUNTS ';

interface ShellAnswer {
  readonly names: string[];
  readonly counts: Map<string, number>;
}

/**
 * The container's shell runs a script the tool writes into the container's /tmp (0600, removed
 * after: withContainerFile): the login goes in there, never on a command line. The script logs
 * in, drops, then prints the collections left and the documents of those it was asked to count,
 * each on one marked line.
 */
export function shellCollections(docker: DockerEngine, access: MongoAccess): MongoCollections {
  const run = async (
    database: string,
    drop: readonly string[],
    signal?: AbortSignal,
    count: readonly string[] = [],
  ): Promise<ShellAnswer> => {
    const login = access.password ? { user: access.username, password: access.password } : null;
    const script = [
      `const login = ${JSON.stringify(login)};`,
      `if (login) db.getSiblingDB('admin').auth(login.user, login.password);`,
      `const target = db.getSiblingDB(${JSON.stringify(database)});`,
      `for (const name of ${JSON.stringify(drop)}) target.getCollection(name).drop();`,
      `print(${JSON.stringify(LISTED)} + JSON.stringify(target.getCollectionNames()));`,
      `const counts = {};`,
      `for (const name of ${JSON.stringify(count)}) counts[name] = target.getCollection(name).countDocuments({});`,
      `print(${JSON.stringify(COUNTED)} + JSON.stringify(counts));`,
      '',
    ].join('\n');
    const runScript = async (path: string): Promise<ShellAnswer> => {
      for (const shell of SHELLS) {
        const result = await docker
          .exec(access.container, [shell, '--quiet', '--norc', path], { signal })
          .catch((error: Error): ExecResult => ({ exitCode: 127, stdout: '', stderr: error.message }));
        if (missing(result)) continue;
        const lines = result.stdout.split('\n');
        const listed = lines.find((line) => line.startsWith(LISTED));
        const counted = lines.find((line) => line.startsWith(COUNTED));
        if (result.exitCode !== 0 || !listed || !counted) {
          const output = lastLines(result.stderr, 1) || lastLines(result.stdout, 1) || `exit code ${result.exitCode}`;
          throw new CollectionsUnavailable(`${shell} in ${access.container} failed: ${maskCredentials(output, [access.password])}`);
        }
        const counts = JSON.parse(counted.slice(COUNTED.length)) as Record<string, number>;
        return { names: JSON.parse(listed.slice(LISTED.length)) as string[], counts: new Map(Object.entries(counts)) };
      }
      throw new CollectionsUnavailable(`neither mongosh nor mongo is installed in ${access.container}`);
    };
    return withContainerFile(docker, access.container, { extension: '.js', content: script }, runScript);
  };
  return {
    how: `with the shell in ${access.container}`,
    list: async (database, signal) => (await run(database, [], signal)).names,
    drop: async (database, names) => {
      await run(database, names);
    },
    count: async (database, names, signal) => (await run(database, [], signal, names)).counts,
  };
}

function missing(result: ExecResult): boolean {
  return result.exitCode === 126 || result.exitCode === 127 || /executable file not found/i.test(result.stderr);
}
