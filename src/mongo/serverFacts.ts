import { PreconditionError } from '../base/errors.js';
import { plural } from '../base/format.js';
import type { NamespaceSummary } from './archive.js';
import { namespaceTarget } from './remap.js';
import { MongoUnreachable, withMongoUri, type MongoServer } from './serverCounts.js';
import { maskCredentials } from './toolOutput.js';

export interface ServerFacts {
  /** Dry-run lines: the server reached and its version against the dump's. */
  readonly lines: string[];
  /** What --drop replaces, counted on the server ("14 collections holding 1,203,554 documents of database orkestra"). */
  readonly replaces: string;
  readonly warnings: string[];
}

/**
 * What the official driver answers that mongorestore --dryRun cannot, for a restore through
 * MONGO_URI: the server is reachable and the login works, its version against the dump's, and
 * how many documents each collection that --drop replaces holds now.
 */
export async function serverFacts(
  uri: string,
  targetDb: string,
  restored: readonly NamespaceSummary[],
  args: readonly string[],
  dumpVersion: string | undefined,
): Promise<ServerFacts> {
  return askThroughUri(uri, async (server) => {
    const version = await server.version();
    const existing = new Set(await server.collections(targetDb));
    let collections = 0;
    let documents = 0;
    for (const namespace of restored) {
      const target = namespaceTarget(args, `${namespace.db}.${namespace.collection}`);
      const collection = target?.slice(targetDb.length + 1);
      if (!collection || !existing.has(collection)) continue;
      collections += 1;
      documents += await server.count(`${targetDb}.${collection}`);
    }
    const warnings = olderServer(version, dumpVersion)
      ? [`the server runs MongoDB ${version}, older than ${dumpVersion} that made the dump: check the restored indexes and features`]
      : [];
    const replaces = `drops ${plural(collections, 'collection')} holding ${plural(documents, 'document')} of database ${targetDb}`;
    return {
      lines: [
        `the driver reached the server through MONGO_URI and logged in: MongoDB ${version} (the dump came from ${dumpVersion ?? 'an unknown version'})`,
        `--drop ${replaces} (counted on the server now)`,
      ],
      replaces,
      warnings,
    };
  });
}

/**
 * Before a tool starts through MONGO_URI: the driver reaches the server and logs in, within its
 * selection timeout. A tool started against a server that is away may never return (mongodump
 * keeps looking for it and ignores SIGTERM), and its own message would carry the whole URI.
 */
export async function requireServer(uri: string, tool: string): Promise<void> {
  await askThroughUri(uri, (server) => server.version(), `; ${tool} was not started`);
}

async function askThroughUri<T>(uri: string, work: (server: MongoServer) => Promise<T>, consequence = ''): Promise<T> {
  try {
    return await withMongoUri(uri, work);
  } catch (error) {
    if (!(error instanceof MongoUnreachable)) throw error;
    throw new PreconditionError(`MONGO_URI: ${maskCredentials(error.message)}${consequence}.`, {
      hint: 'Check the host, port, user and password of MONGO_URI. Nothing was touched.',
    });
  }
}

function olderServer(server: string, dump: string | undefined): boolean {
  if (!dump) return false;
  const [a, b] = [server, dump].map((version) => version.split('.').map((part) => Number.parseInt(part, 10) || 0));
  for (let index = 0; index < 3; index += 1) if ((a[index] ?? 0) !== (b[index] ?? 0)) return (a[index] ?? 0) < (b[index] ?? 0);
  return false;
}
